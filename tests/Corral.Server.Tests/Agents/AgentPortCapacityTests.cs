using System.Net;
using Corral.Core.Cluster;

namespace Corral.Server.Tests.Agents;

/// <summary>The port capacity an agent registers (<c>corral agent --ports</c>) is the node's.</summary>
public class AgentPortCapacityTests
{
    [Fact]
    public async Task Register_PortCapacity_IsTheNodes_AndAnAgentWithoutTheFieldKeepsIt()
    {
        await using var host = await AgentHost.StartAsync();
        await host.WaitForLeaderAsync();

        using (var first = await host.RegisterAsync(AgentHost.Registration("a") with { PortCapacity = 101 }))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }
        Assert.Equal(101, (await host.State.GetNodeAsync("a", CancellationToken.None))!.Value.PortCapacity);

        using (var older = await host.RegisterAsync(AgentHost.Registration("a")))
        {
            Assert.Equal(HttpStatusCode.OK, older.StatusCode);
        }
        Assert.Equal(101, (await host.State.GetNodeAsync("a", CancellationToken.None))!.Value.PortCapacity);

        using (var plain = await host.RegisterAsync(AgentHost.Registration("b")))
        {
            Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        }
        Assert.Equal(Node.DefaultPortCapacity, (await host.State.GetNodeAsync("b", CancellationToken.None))!.Value.PortCapacity);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(70_000)]
    public async Task Register_PortCapacityOutOfRange_Is400NamingTheField(int capacity)
    {
        await using var host = await AgentHost.StartAsync();
        await host.WaitForLeaderAsync();

        using var response = await host.RegisterAsync(AgentHost.Registration("a") with { PortCapacity = capacity });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("port_capacity", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Null(await host.State.GetNodeAsync("a", CancellationToken.None));
    }
}
