using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Corral.Core;
using Corral.Core.Api;
using Corral.Core.Cluster;
using Corral.Server.State;

namespace Corral.Server.Tests.Api;

public sealed class AlarmApiTests : IAsyncLifetime
{
    private ServerHost _host = null!;

    public async Task InitializeAsync() => _host = await ServerHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Alarms_ListActiveByDefault_AllWithQuery()
    {
        await DownNodeAlarmAsync();
        await PutAsync(Alarm("node.down.node.b", active: false));
        using var viewer = _host.Client(await _host.CreateKeyAsync("v", "viewer"));

        var active = await viewer.GetFromJsonAsync("/v1/alarms", CoreJson.Default.ListAlarm);
        var all = await viewer.GetFromJsonAsync("/v1/alarms?all=true", CoreJson.Default.ListAlarm);

        Assert.Equal(["node.down.node.a"], active!.Select(a => a.Id));
        Assert.Equal(["node.down.node.a", "node.down.node.b"], all!.Select(a => a.Id));
    }

    [Fact]
    public async Task Alarms_WireShape_SnakeCaseWithLowercaseSeverity()
    {
        await DownNodeAlarmAsync();
        using var viewer = _host.Client(await _host.CreateKeyAsync("v", "viewer"));

        using var document = JsonDocument.Parse(await viewer.GetStringAsync("/v1/alarms"));

        var alarm = document.RootElement[0];
        Assert.Equal("critical", alarm.GetProperty("severity").GetString());
        Assert.Equal("node/a", alarm.GetProperty("subject").GetString());
        foreach (var field in new[] { "id", "kind", "message", "first_seen", "last_seen", "active", "acknowledged" })
        {
            Assert.True(alarm.TryGetProperty(field, out _), field);
        }
    }

    [Fact]
    public async Task Ack_Operator_AcknowledgesIdempotentlyWithAnEvent()
    {
        await DownNodeAlarmAsync();
        using var ops = _host.Client(await _host.CreateKeyAsync("ops", "operator"));

        using var first = await ops.PostAsync("/v1/alarms/node.down.node.a/ack", null);
        using var second = await ops.PostAsync("/v1/alarms/node.down.node.a/ack", null);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var a = (await first.Content.ReadFromJsonAsync(CoreJson.Default.Alarm))!;
        var b = (await second.Content.ReadFromJsonAsync(CoreJson.Default.Alarm))!;
        Assert.True(a.Acknowledged);
        Assert.Equal("key:ops", a.AcknowledgedBy);
        Assert.Equal(a.AcknowledgedAt, b.AcknowledgedAt);
        var events = await _host.State.EventsAfterAsync(0, 1000, CancellationToken.None);
        Assert.Single(events.Events, e => e.Kind == "alarm.acknowledged");
    }

    [Fact]
    public async Task Ack_ViewerOrUnknownId_RefusedWithoutChange()
    {
        await DownNodeAlarmAsync();
        using var viewer = _host.Client(await _host.CreateKeyAsync("v", "viewer"));
        using var ops = _host.Client(await _host.CreateKeyAsync("ops", "operator"));

        using var forbidden = await viewer.PostAsync("/v1/alarms/node.down.node.a/ack", null);
        using var missing = await ops.PostAsync("/v1/alarms/no.such/ack", null);

        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
        Assert.Contains("no.such", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var stored = JsonSerializer.Deserialize((await _host.State.Store.GetAsync(Keys.Alarm("node.down.node.a")))!.Value.Span, CoreJson.Default.Alarm)!;
        Assert.False(stored.Acknowledged);
    }

    [Fact]
    public async Task Status_CarriesHealthScoreAndAlarmCounts()
    {
        await DownNodeAlarmAsync();
        await PutAsync(Alarm("node.down.node.b", active: false));
        using var viewer = _host.Client(await _host.CreateKeyAsync("v", "viewer"));

        var status = await Corral.Testing.Eventually.ValueAsync(async () =>
        {
            var s = await viewer.GetFromJsonAsync("/v1/status", CoreJson.Default.ClusterStatus);
            return s?.Health is { Inputs.NodesTotal: 1 } ? s : null;
        }, TimeSpan.FromSeconds(30), "a health score in /v1/status");

        Assert.Equal(70, status.Health!.Score);
        Assert.Equal(0, status.Health.Inputs.NodesReady);
        Assert.Equal(new AlarmCounts(1, 0, 0), status.Alarms);
        using var document = JsonDocument.Parse(await viewer.GetStringAsync("/v1/status"));
        Assert.True(document.RootElement.GetProperty("health").TryGetProperty("score", out _));
        Assert.True(document.RootElement.GetProperty("alarms").TryGetProperty("critical", out _));
    }

    /// <summary>Puts node a down in the store and waits for the leader's monitor to raise node.down.node.a.</summary>
    private async Task DownNodeAlarmAsync()
    {
        await _host.State.Store.PutAsync(Keys.Node("a"), JsonSerializer.SerializeToUtf8Bytes(new Node { Name = "a", Status = NodeStatus.Down, StatusSince = DateTimeOffset.UtcNow }, CoreJson.Default.Node));
        await Corral.Testing.Eventually.ValueAsync(() => _host.State.Store.GetAsync(Keys.Alarm("node.down.node.a")), TimeSpan.FromSeconds(30), "the monitor to raise node.down.node.a");
    }

    private Task PutAsync(Alarm alarm) =>
        _host.State.Store.PutAsync(Keys.Alarm(alarm.Id), JsonSerializer.SerializeToUtf8Bytes(alarm, CoreJson.Default.Alarm));

    private static Alarm Alarm(string id, bool active) =>
        new(id, "node.down", AlarmSeverity.Critical, "node/" + id[^1], "node is down: check it", DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, active);
}
