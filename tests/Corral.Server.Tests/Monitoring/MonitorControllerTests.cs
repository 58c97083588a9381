using System.Text.Json;
using Corral.Core;
using Corral.Core.Api;
using Corral.Core.Cluster;
using Corral.Core.Monitoring;
using Corral.Core.Tasks;
using Corral.Server.Metrics;
using Corral.Server.Monitoring;
using Corral.Server.State;
using Corral.Server.Tests.Controllers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Corral.Server.Tests.Monitoring;

/// <summary>The monitor on a real SQLite store and a fake clock: alarms raised and cleared in the store, with events.</summary>
public sealed class MonitorControllerTests : IAsyncLifetime
{
    private readonly StoreHarness _h = new();
    private readonly ServiceProvider _services = new ServiceCollection().BuildServiceProvider();
    private AlarmSinks? _sinks;
    private CorralMetrics? _metrics;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_sinks is not null)
        {
            await _sinks.DisposeAsync();
        }
        _metrics?.Dispose();
        await _services.DisposeAsync();
        await _h.DisposeAsync();
    }

    [Fact]
    public async Task Pass_NodeDownThenUp_AlarmRaisedAndClearedWithEvents()
    {
        var monitor = Monitor();
        await _h.AddNodesAsync("a", "b");
        var term = await EstablishAsync(monitor);
        var well = await monitor.PassAsync(term, CancellationToken.None);
        Assert.Equal(100, well.Score);
        Assert.Empty(await AlarmsAsync());

        await _h.PutNodeAsync((await _h.GetNodeAsync("b")) with { Status = NodeStatus.Down, StatusSince = _h.Time.GetUtcNow() });
        _h.Time.Advance(TimeSpan.FromSeconds(2));
        var down = await monitor.PassAsync(term, CancellationToken.None);

        Assert.Equal(85, down.Score);
        var alarm = Assert.Single(await AlarmsAsync());
        Assert.Equal(("node.down.node.b", "node.down", AlarmSeverity.Critical, "node/b", true), (alarm.Id, alarm.Kind, alarm.Severity, alarm.Subject, alarm.Active));
        Assert.Contains("alarm.raised", await _h.EventKindsAsync());
        var health = JsonSerializer.Deserialize((await _h.Store.GetAsync(Keys.Health))!.Value.Span, CoreJson.Default.HealthReport)!;
        Assert.Equal(85, health.Score);
        Assert.Equal(1, health.Inputs.NodesReady);

        await _h.PutNodeAsync((await _h.GetNodeAsync("b")) with { Status = NodeStatus.Ready, StatusSince = _h.Time.GetUtcNow() });
        _h.Time.Advance(TimeSpan.FromSeconds(2));
        await monitor.PassAsync(term, CancellationToken.None);

        var cleared = Assert.Single(await AlarmsAsync());
        Assert.False(cleared.Active);
        Assert.Equal(alarm.FirstSeen, cleared.FirstSeen);
        Assert.Contains("alarm.cleared", await _h.EventKindsAsync());
    }

    [Fact]
    public async Task Pass_SteadyAlarm_CostsNoStoreWrite()
    {
        var monitor = Monitor();
        await _h.AddNodesAsync("a");
        await _h.PutNodeAsync((await _h.GetNodeAsync("a")) with { Status = NodeStatus.Down });
        var term = await EstablishAsync(monitor);
        await monitor.PassAsync(term, CancellationToken.None);
        var revision = await _h.Store.GetRevisionAsync();

        _h.Time.Advance(TimeSpan.FromSeconds(5));
        await monitor.PassAsync(term, CancellationToken.None);

        Assert.Equal(revision, await _h.Store.GetRevisionAsync());
    }

    [Fact]
    public async Task Pass_ReplicaRestartsRepeatedly_CrashLoopRaisedThenClearedAfterTheWindow()
    {
        var monitor = Monitor(new MonitorOptions { CrashLoopWindow = TimeSpan.FromSeconds(30) });
        await _h.AddNodesAsync("a");
        await _h.SetReplicaAsync(new Replica { Id = "web-1", Service = "web", Version = "v1", Node = "a", Phase = ReplicaPhase.Assigned, State = ReplicaState.Running });
        var term = await EstablishAsync(monitor);
        for (var restarts = 0; restarts <= 3; restarts++)
        {
            Heartbeat("a", Report("web-1", restarts));
            await monitor.PassAsync(term, CancellationToken.None);
            _h.Time.Advance(TimeSpan.FromSeconds(2));
        }

        var alarm = Assert.Single(await AlarmsAsync(), a => a.Active);
        Assert.Equal(("replica.crash_loop", "replica/web-1"), (alarm.Kind, alarm.Subject));

        _h.Time.Advance(TimeSpan.FromSeconds(30));
        await monitor.PassAsync(term, CancellationToken.None);
        Assert.DoesNotContain(await AlarmsAsync(), a => a.Active);
    }

    [Fact]
    public async Task Pass_DiskAboveThreshold_RaisedAndClearedWhenFreed()
    {
        var monitor = Monitor(new MonitorOptions { Thresholds = new MonitorThresholds { DiskThresholdPercent = 50 } });
        await _h.AddNodesAsync("a");
        var term = await EstablishAsync(monitor);
        _h.Heartbeats.Record(new AgentHeartbeat("a", [], null, null, null, 60, 100), _h.Time.GetUtcNow());
        await monitor.PassAsync(term, CancellationToken.None);

        var alarm = Assert.Single(await AlarmsAsync());
        Assert.Equal(("node.disk_full", "node/a", true), (alarm.Kind, alarm.Subject, alarm.Active));
        Assert.Contains("60% used (threshold 50%", alarm.Message, StringComparison.Ordinal);

        _h.Heartbeats.Record(new AgentHeartbeat("a", [], null, null, null, 40, 100), _h.Time.GetUtcNow());
        await monitor.PassAsync(term, CancellationToken.None);
        Assert.False(Assert.Single(await AlarmsAsync()).Active);
    }

    [Fact]
    public async Task Pass_NodeCertificateExpiresSoon_Raised()
    {
        var monitor = Monitor();
        await _h.AddNodesAsync("a");
        var term = await EstablishAsync(monitor);
        _h.Heartbeats.Record(new AgentHeartbeat("a", [], null, null, null), _h.Time.GetUtcNow(), _h.Time.GetUtcNow().AddDays(3));
        await monitor.PassAsync(term, CancellationToken.None);

        var alarm = Assert.Single(await AlarmsAsync());
        Assert.Equal(("cert.expiring", "cert/node/a", AlarmSeverity.Warning), (alarm.Kind, alarm.Subject, alarm.Severity));
    }

    [Fact]
    public async Task Pass_NotLeading_WritesNothing()
    {
        var monitor = Monitor();
        await _h.AddNodesAsync("a");
        await _h.PutNodeAsync((await _h.GetNodeAsync("a")) with { Status = NodeStatus.Down });
        var term = await EstablishAsync(monitor);
        await term.Leadership.ResignAsync(CancellationToken.None);

        await monitor.PassAsync(term, CancellationToken.None);

        Assert.Empty(await AlarmsAsync());
    }

    private MonitorController Monitor(MonitorOptions? options = null)
    {
        options ??= MonitorOptions.Default;
        _sinks = new AlarmSinks(options, _h.Time, NullLogger<AlarmSinks>.Instance);
        _metrics = new CorralMetrics(_h.State, _h.Heartbeats, _services);
        return new MonitorController(_h.State, _h.Heartbeats, options, ServerCertificates.None, _sinks, _metrics, _h.Time, NullLogger<MonitorController>.Instance);
    }

    private async Task<Corral.Server.Leadership.LeadershipTerm> EstablishAsync(MonitorController monitor)
    {
        var term = await _h.LeadAsync();
        await monitor.EstablishAsync(term, CancellationToken.None);
        return term;
    }

    private void Heartbeat(string node, params ReplicaReport[] reports) =>
        _h.Heartbeats.Record(new AgentHeartbeat(node, reports, null, null, null), _h.Time.GetUtcNow());

    private static ReplicaReport Report(string id, int restarts) =>
        new(id, ReplicaState.Running, DateTimeOffset.UtcNow, "", 100, null, null, null, null, restarts);

    private async Task<List<Alarm>> AlarmsAsync()
    {
        var range = await _h.Store.RangeAsync(Keys.Alarms);
        return [.. range.Kvs.Select(kv => JsonSerializer.Deserialize(kv.Value.Span, CoreJson.Default.Alarm)!)];
    }
}
