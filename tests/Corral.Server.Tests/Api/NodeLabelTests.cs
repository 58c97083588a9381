using System.Net;
using System.Net.Http.Json;
using Corral.Core;
using Corral.Core.Api;
using Corral.Core.Cluster;
using Corral.Testing;

namespace Corral.Server.Tests.Api;

/// <summary>Agent-reported and operator labels over the real API: registration never undoes <c>corral node label</c>.</summary>
public sealed class NodeLabelTests : IAsyncLifetime
{
    private ServerHost _server = null!;

    public async Task InitializeAsync() => _server = await ServerHost.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task OperatorLabels_SurviveReRegistration_WinOnConflict_AndPlacementUsesTheMergedSet()
    {
        var agent = _server.NodeClient(await _server.JoinNodeAsync("n1"));
        using (var registered = await NodeCertificateTests.RegisterAsync(agent, "n1", new Dictionary<string, string> { ["zone"] = "a", ["rack"] = "r1" }))
        {
            Assert.Equal(HttpStatusCode.OK, registered.StatusCode);
        }
        using var op = _server.Client(await _server.CreateKeyAsync("ops", "operator"));
        using (var labeled = await op.PutAsync("/v1/nodes/n1/labels", ServerHost.Json(new NodeLabelsRequest(new Dictionary<string, string> { ["zone"] = "b", ["disk"] = "ssd" }), CoreJson.Default.NodeLabelsRequest)))
        {
            Assert.Equal(HttpStatusCode.OK, labeled.StatusCode);
            var view = (await labeled.Content.ReadFromJsonAsync(CoreJson.Default.NodeView))!;
            Assert.Equal(Map(("disk", "ssd"), ("rack", "r1"), ("zone", "b")), view.Node.Labels);
            Assert.Equal(Map(("rack", "r1"), ("zone", "a")), view.Node.AgentLabels);
            Assert.Equal(Map(("disk", "ssd"), ("zone", "b")), view.Node.OperatorLabels);
        }

        // The agent restarts with other labels: its own set is replaced, the operator's stays and still wins.
        using (var again = await NodeCertificateTests.RegisterAsync(agent, "n1", new Dictionary<string, string> { ["zone"] = "c", ["gpu"] = "yes" }))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        }
        var node = (await _server.State.GetNodeAsync("n1", CancellationToken.None))!.Value;
        Assert.Equal(Map(("disk", "ssd"), ("gpu", "yes"), ("zone", "b")), node.Labels);
        Assert.Equal(Map(("gpu", "yes"), ("zone", "c")), node.AgentLabels);
        Assert.Equal(Map(("disk", "ssd"), ("zone", "b")), node.OperatorLabels);

        // Placement matches the merged set: an operator label and an agent label together.
        using var admin = _server.Client(_server.AdminToken);
        var stack = "stack: s\nservices:\n  pinned:\n    command: /bin/true\n    replicas: 1\n    placement: { labels: { zone: b, gpu: \"yes\" } }\n";
        using (var deployed = await admin.PostAsync("/v1/stacks/deploy", ServerHost.Json(new DeployRequest(stack, "stack.yaml"), CoreJson.Default.DeployRequest)))
        {
            Assert.True(deployed.IsSuccessStatusCode, await deployed.Content.ReadAsStringAsync());
        }
        await Eventually.ValueAsync(async () =>
        {
            var snapshot = await _server.State.ReadAsync(CancellationToken.None);
            return snapshot.Replicas.Values.FirstOrDefault(r => r.Value.Service == "pinned" && r.Value.Node == "n1" && r.Value.Phase == ReplicaPhase.Assigned);
        }, TimeSpan.FromSeconds(30), "the replica to be placed on n1 by its merged labels");

        // Clearing the operator labels leaves the agent's.
        using (var cleared = await op.PutAsync("/v1/nodes/n1/labels", ServerHost.Json(new NodeLabelsRequest(new Dictionary<string, string>()), CoreJson.Default.NodeLabelsRequest)))
        {
            Assert.Equal(HttpStatusCode.OK, cleared.StatusCode);
        }
        node = (await _server.State.GetNodeAsync("n1", CancellationToken.None))!.Value;
        Assert.Equal(Map(("gpu", "yes"), ("zone", "c")), node.Labels);
        Assert.Empty(node.OperatorLabels);
    }

    private static IReadOnlyDictionary<string, string> Map(params (string Key, string Value)[] pairs) =>
        new SortedDictionary<string, string>(pairs.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal), StringComparer.Ordinal);
}
