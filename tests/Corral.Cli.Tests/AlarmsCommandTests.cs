using System.Text.Json;
using Corral.Core;
using Corral.Core.Cluster;
using Corral.Testing;

namespace Corral.Cli.Tests;

public sealed class AlarmsCommandTests : CliTestBase
{
    private const string Id = "node.down.node.gone";

    /// <summary>Registers a node that is down and waits for the leader's monitor to raise its alarm.</summary>
    private async Task DownNodeAsync()
    {
        await Server.PutNodeAsync(new Node { Name = "gone", Status = NodeStatus.Down, StatusSince = DateTimeOffset.UtcNow });
        using var client = Server.Client();
        await Eventually.ValueAsync(async () => (await client.ListAlarmsAsync(false, CancellationToken.None)).FirstOrDefault(a => a.Id == Id), TimeSpan.FromSeconds(30), "the node-down alarm");
    }

    [Fact]
    public async Task AlarmsLs_TableAndJson()
    {
        await DownNodeAsync();

        var table = await CorralAsync("alarms", "ls");
        var json = await CorralAsync("alarms", "ls", "-o", "json");

        AssertOk(table);
        Assert.Matches(@"(?m)^ID\s+SEVERITY\s+SUBJECT\s+FIRST SEEN\s+ACK\s+MESSAGE", table.Out);
        Assert.Matches(@"(?m)^node\.down\.node\.gone\s+critical\s+node/gone\s", table.Out);
        AssertOk(json);
        var alarms = JsonSerializer.Deserialize(json.Out, CoreJson.Default.ListAlarm)!;
        Assert.Equal(Id, Assert.Single(alarms).Id);
        Assert.Contains("\"severity\": \"critical\"", json.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AlarmsAck_AcknowledgesAgainChangesNothing_UnknownIsNotFound()
    {
        await DownNodeAsync();
        var ops = await Server.CreateKeyAsync("ops", "operator");

        var first = await CorralAsAsync(ops, "alarms", "ack", Id);
        var again = await CorralAsAsync(ops, "alarms", "ack", Id, "-o", "json");
        var unknown = await CorralAsAsync(ops, "alarms", "ack", "no.such.alarm");
        var listed = await CorralAsync("alarms", "ls");

        AssertOk(first);
        Assert.Contains($"alarm {Id} acknowledged by key:ops", first.Out, StringComparison.Ordinal);
        AssertOk(again);
        Assert.Equal("key:ops", JsonSerializer.Deserialize(again.Out, CoreJson.Default.Alarm)!.AcknowledgedBy);
        AssertExit(ExitCodes.NotFound, unknown);
        Assert.Matches(@"(?m)^node\.down\.node\.gone\s+critical\s+node/gone\s+\S+\s+key:ops\s", listed.Out);
    }

    [Fact]
    public async Task AlarmsAck_ViewerKey_IsRefused()
    {
        await DownNodeAsync();
        var viewer = await Server.CreateKeyAsync("v", "viewer");

        var run = await CorralAsAsync(viewer, "alarms", "ack", Id);

        AssertExit(ExitCodes.Unauthorized, run);
    }

    [Fact]
    public async Task Status_ShowsHealthScoreAndActiveAlarms()
    {
        await DownNodeAsync();

        var run = await Eventually.ValueAsync(async () =>
        {
            var r = await CorralAsync("status");
            return r.Out.Contains("alarms    1 critical", StringComparison.Ordinal) ? r : null;
        }, TimeSpan.FromSeconds(30), "status to count the alarm");

        AssertOk(run);
        Assert.Matches(@"(?m)^health\s+70/100$", run.Out);
        Assert.Matches(@"(?m)^node\.down\.node\.gone\s+critical\s+node/gone\s", run.Out);
    }
}
