using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Corral.Core;
using Corral.Core.Api;
using Corral.Core.Cluster;
using Corral.Server.State;
using Corral.Store;

namespace Corral.Server.Tests.Api;

public sealed class NodeApiTests : IAsyncLifetime
{
    private ServerHost _server = null!;

    public async Task InitializeAsync()
    {
        _server = await ServerHost.StartAsync();
        var node = new Node { Name = "n1", Addresses = ["127.0.0.1"], CpuCores = 2, MemoryBytes = 1L << 30, StatusSince = DateTimeOffset.UtcNow };
        await _server.State.Store.TxnAsync(new Txn([], [ClusterState.PutNode(node)], []), CancellationToken.None);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<List<ClusterEvent>> KeyEventsAsync(HttpClient client) =>
        (await client.GetFromJsonAsync("/v1/events", CoreJson.Default.EventPage))!.Events.Where(e => e.Actor.StartsWith("key:", StringComparison.Ordinal)).ToList();

    private async Task<Node> NodeAsync() => (await _server.State.GetNodeAsync("n1", CancellationToken.None))!.Value;

    [Theory]
    [InlineData("POST", "/v1/nodes/n1/drain")]
    [InlineData("POST", "/v1/nodes/n1/undrain")]
    [InlineData("PUT", "/v1/nodes/n1/labels")]
    [InlineData("DELETE", "/v1/nodes/n1")]
    public async Task NodeMutation_WithViewerKey_Is403_AndChangesNothing(string method, string path)
    {
        using var viewer = _server.Client(await _server.CreateKeyAsync("ro", "viewer"));
        var before = await _server.State.GetNodeAsync("n1", CancellationToken.None);

        var response = await viewer.SendAsync(new HttpRequestMessage(new HttpMethod(method), path) { Content = new StringContent("""{"labels":{}}""") });

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(before!.ModRevision, (await _server.State.GetNodeAsync("n1", CancellationToken.None))!.ModRevision);
    }

    [Fact]
    public async Task NodeRemove_WithOperatorKey_Is403()
    {
        using var op = _server.Client(await _server.CreateKeyAsync("alice", "operator"));

        var response = await op.DeleteAsync("/v1/nodes/n1");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.NotNull(await _server.State.GetNodeAsync("n1", CancellationToken.None));
    }

    [Theory]
    [InlineData("POST", "/v1/nodes/nope/drain")]
    [InlineData("POST", "/v1/nodes/nope/undrain")]
    [InlineData("PUT", "/v1/nodes/nope/labels")]
    [InlineData("DELETE", "/v1/nodes/nope")]
    public async Task NodeMutation_UnknownNode_Is404(string method, string path)
    {
        using var admin = _server.Client(_server.AdminToken);

        var response = await admin.SendAsync(new HttpRequestMessage(new HttpMethod(method), path) { Content = ServerHost.Json(new NodeLabelsRequest(new Dictionary<string, string>()), CoreJson.Default.NodeLabelsRequest) });

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("no node 'nope'", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Drain_Twice_OneEvent_NodeIneligible_ThenUndrainTwice_OneEvent()
    {
        using var op = _server.Client(await _server.CreateKeyAsync("alice", "operator"));

        var first = await op.PostAsync("/v1/nodes/n1/drain", null);
        var second = await op.PostAsync("/v1/nodes/n1/drain", null);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var view = (await second.Content.ReadFromJsonAsync(CoreJson.Default.NodeView))!;
        Assert.False(view.Node.Eligible);
        var draining = Assert.Single(await KeyEventsAsync(op), e => e.Kind == "node.draining");
        Assert.Equal("key:alice", draining.Actor);
        Assert.Equal("node/n1", draining.Subject);
        // With no replica on it, the leader marks it drained: still ineligible, no longer draining.
        await WaitUntilAsync(async () => !(await NodeAsync()).Draining, "the leader marks n1 drained");
        Assert.False((await NodeAsync()).Eligible);
        await WaitUntilAsync(async () => (await op.GetFromJsonAsync("/v1/events", CoreJson.Default.EventPage))!.Events.Any(e => e.Kind == "node.drained" && e.Subject == "node/n1"), "a node.drained event");

        Assert.Equal(HttpStatusCode.OK, (await op.PostAsync("/v1/nodes/n1/undrain", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await op.PostAsync("/v1/nodes/n1/undrain", null)).StatusCode);

        var node = await NodeAsync();
        Assert.True(node.Eligible);
        Assert.False(node.Draining);
        Assert.Equal("key:alice", Assert.Single(await KeyEventsAsync(op), e => e.Kind == "node.undrained").Actor);
        Assert.Single(await KeyEventsAsync(op), e => e.Kind == "node.draining");
    }

    [Fact]
    public async Task Labels_Replace_Idempotent_AndValidated()
    {
        using var op = _server.Client(await _server.CreateKeyAsync("alice", "operator"));
        var labels = new Dictionary<string, string> { ["zone"] = "a", ["disk"] = "ssd" };

        var first = await op.PutAsync("/v1/nodes/n1/labels", ServerHost.Json(new NodeLabelsRequest(labels), CoreJson.Default.NodeLabelsRequest));
        var second = await op.PutAsync("/v1/nodes/n1/labels", ServerHost.Json(new NodeLabelsRequest(labels), CoreJson.Default.NodeLabelsRequest));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(labels.OrderBy(l => l.Key), (await NodeAsync()).Labels.OrderBy(l => l.Key));
        var labeled = Assert.Single(await KeyEventsAsync(op), e => e.Kind == "node.labeled");
        Assert.Contains("disk=ssd, zone=a", labeled.Message, StringComparison.Ordinal);

        var replaced = await op.PutAsync("/v1/nodes/n1/labels", ServerHost.Json(new NodeLabelsRequest(new Dictionary<string, string> { ["zone"] = "b" }), CoreJson.Default.NodeLabelsRequest));
        Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);
        Assert.Equal([new KeyValuePair<string, string>("zone", "b")], (await NodeAsync()).Labels);

        var bad = await op.PutAsync("/v1/nodes/n1/labels", ServerHost.Json(new NodeLabelsRequest(new Dictionary<string, string> { ["bad key"] = "x", ["ok"] = "no way" }), CoreJson.Default.NodeLabelsRequest));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var errors = JsonDocument.Parse(await bad.Content.ReadAsStringAsync()).RootElement.GetProperty("errors");
        Assert.Equal(["labels.bad key", "labels.ok"], errors.EnumerateArray().Select(e => e.GetProperty("field").GetString()!).ToArray());
        Assert.Equal([new KeyValuePair<string, string>("zone", "b")], (await NodeAsync()).Labels);
    }

    [Fact]
    public async Task Remove_DeletesTheNode_RecordsWho_SecondIs404()
    {
        using var admin = _server.Client(_server.AdminToken);

        var first = await admin.DeleteAsync("/v1/nodes/n1");
        var second = await admin.DeleteAsync("/v1/nodes/n1");

        Assert.Equal(HttpStatusCode.NoContent, first.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, second.StatusCode);
        Assert.Null(await _server.State.GetNodeAsync("n1", CancellationToken.None));
        var removed = Assert.Single(await KeyEventsAsync(admin), e => e.Kind == "node.removed");
        Assert.Equal("node/n1", removed.Subject);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("/v1/nodes/n1")).StatusCode);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}");
            await Task.Delay(50);
        }
    }
}
