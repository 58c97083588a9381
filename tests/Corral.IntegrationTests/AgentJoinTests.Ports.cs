using System.Globalization;
using Corral.Testing;

namespace Corral.IntegrationTests;

public sealed partial class AgentJoinTests
{
    [Fact]
    public async Task Agent_PortsRange_IsWhereReplicasGetPorts_AndIsTheNodesPortCapacity()
    {
        var first = Math.Min(FreePorts.Next(), 65_535 - 10);
        var last = first + 10;
        var token = (await Client.CreateJoinTokenAsync("10m", 1, "agent", CancellationToken.None)).Token;
        var agent = StartAgent("p1", "--server", ServerUrl, "--token", token, "--name", "p1",
            "--ports", string.Create(CultureInfo.InvariantCulture, $"{first}-{last}"));
        var node = await Eventually.ValueAsync(async () =>
        {
            Assert.False(agent.HasExited, "the agent exited\n" + Log("p1.log"));
            return (await Client.ListNodesAsync(CancellationToken.None)).FirstOrDefault(n => n.Node.Name == "p1" && n.LastHeartbeat is not null);
        }, Timeout, "node p1 to heartbeat");
        Assert.Equal(11, node.Node.PortCapacity);

        await Client.DeployAsync(Stacks.Request(Stacks.Stack("ported",
            "  listener:\n    command: /bin/sh\n    args: [\"-c\", \"exec sleep 100000\"]\n    replicas: 2\n    ports: [http, admin]\n    stop_timeout: 5s\n")), CancellationToken.None);

        var replicas = await Eventually.ValueAsync(async () =>
        {
            Assert.False(agent.HasExited, "the agent exited\n" + Log("p1.log"));
            var running = (await Client.ListReplicasAsync("listener", null, CancellationToken.None)).Where(r => r.Ports is { Count: 2 }).ToList();
            return running.Count == 2 ? running : null;
        }, Timeout, "both replicas to report their ports");
        var ports = replicas.SelectMany(r => r.Ports!.Values).ToList();
        Assert.All(ports, port => Assert.InRange(port, first, last));
        Assert.Equal(4, ports.Distinct().Count());
    }
}
