using System.Text.Json;
using Corral.Core;
using Corral.Core.Cluster;

namespace Corral.Cli.Tests;

public sealed class NodeCommandTests : CliTestBase
{
    private Task AddNodeAsync(string name) =>
        Server.PutNodeAsync(new Node { Name = name, Addresses = ["127.0.0.1"], CpuCores = 2, MemoryBytes = 1L << 30, StatusSince = DateTimeOffset.UtcNow });

    [Fact]
    public async Task NodeDrainUndrain_TableAndJson()
    {
        await AddNodeAsync("n1");

        var drain = await CorralAsync("node", "drain", "n1");
        var again = await CorralAsync("node", "drain", "n1", "-o", "json");

        AssertOk(drain);
        Assert.Contains("NODE", drain.Out, StringComparison.Ordinal);
        Assert.Matches("node 'n1' (draining|drained)", drain.Out);
        AssertOk(again);
        Assert.False(JsonSerializer.Deserialize(again.Out, CoreJson.Default.NodeView)!.Node.Eligible);

        var undrain = await CorralAsync("node", "undrain", "n1", "-o", "json");
        AssertOk(undrain);
        var view = JsonSerializer.Deserialize(undrain.Out, CoreJson.Default.NodeView)!;
        Assert.True(view.Node.Eligible);
        Assert.False(view.Node.Draining);
        var table = await CorralAsync("node", "undrain", "n1");
        AssertOk(table);
        Assert.Contains("node 'n1' eligible for new replicas", table.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NodeLabel_ReplacesLabels_BadPairIsUsage_BadLabelIs400()
    {
        await AddNodeAsync("n1");

        var set = await CorralAsync("node", "label", "n1", "zone=a", "disk=ssd");
        AssertOk(set);
        Assert.Contains("disk=ssd (operator)", set.Out, StringComparison.Ordinal);
        var json = await CorralAsync("node", "label", "n1", "zone=b", "-o", "json");
        AssertOk(json);
        Assert.Equal([new KeyValuePair<string, string>("zone", "b")], JsonSerializer.Deserialize(json.Out, CoreJson.Default.NodeView)!.Node.Labels);

        var usage = await CorralAsync("node", "label", "n1", "zone");
        AssertExit(ExitCodes.Usage, usage);
        Assert.Contains("'zone' is not key=value", usage.Error, StringComparison.Ordinal);

        var invalid = await CorralAsync("node", "label", "n1", "zone=no way");
        AssertExit(ExitCodes.Failure, invalid);
        Assert.Contains("labels.zone", invalid.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NodeRm_RemovesTheNode_UnknownIsExit3_OperatorIsRefused()
    {
        await AddNodeAsync("n1");
        var op = await Server.CreateKeyAsync("alice", "operator");

        var refused = await CorralAsAsync(op, "node", "rm", "n1");
        AssertExit(ExitCodes.Unauthorized, refused);

        var rm = await CorralAsync("node", "rm", "n1");
        AssertOk(rm);
        Assert.Contains("node 'n1' removed", rm.Out, StringComparison.Ordinal);
        AssertExit(ExitCodes.NotFound, await CorralAsync("node", "show", "n1"));
        AssertExit(ExitCodes.NotFound, await CorralAsync("node", "rm", "n1"));
        AssertExit(ExitCodes.NotFound, await CorralAsync("node", "drain", "nope"));
    }

    [Fact]
    public async Task NodeRm_NodeThatJoinedButNeverRegistered_IsRemovedAndItsCertificateRevoked_ThenExit3()
    {
        using var client = Server.Client();
        var token = await client.CreateJoinTokenAsync("10m", 1, "agent", CancellationToken.None);
        Assert.True(Corral.Core.Security.JoinToken.TryParse(token.Token, out var parsed, out var error), error);
        // The agent's own join code, over HTTPS with a real CSR; the node never registers.
        _ = await Corral.Agent.ControlPlane.NodeJoiner.JoinAsync(new Uri(Server.Address), parsed, "ghost", new Dictionary<string, string>(), CancellationToken.None);
        AssertExit(ExitCodes.NotFound, await CorralAsync("node", "show", "ghost"));

        var rm = await CorralAsync("node", "rm", "ghost");

        AssertOk(rm);
        Assert.Contains("node 'ghost' removed", rm.Out, StringComparison.Ordinal);
        var events = await CorralAsync("events", "-o", "json");
        Assert.Contains("node 'ghost' removed before it registered; 1 certificate(s) revoked", events.Out, StringComparison.Ordinal);
        AssertExit(ExitCodes.NotFound, await CorralAsync("node", "rm", "ghost"));
        AssertExit(ExitCodes.NotFound, await CorralAsync("node", "rm", "never-joined"));
    }
}
