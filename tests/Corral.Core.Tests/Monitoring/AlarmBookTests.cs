using Corral.Core.Api;
using Corral.Core.Monitoring;
using Corral.Testing;

namespace Corral.Core.Tests.Monitoring;

public class AlarmBookTests
{
    private readonly ManualTimeProvider _time = new(new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero));
    private readonly Dictionary<string, Alarm> _store = new(StringComparer.Ordinal);
    private readonly AlarmBook _book = new() { LastSeenResolution = TimeSpan.FromSeconds(30) };

    private static readonly AlarmCondition Down = new(HealthMonitor.NodeDown, AlarmSeverity.Critical, "node/a", "node a is down");

    [Fact]
    public void Apply_NewCondition_RaisedOnceThenSteadyWithoutWrites()
    {
        var first = Pass(Down);
        var raised = Assert.Single(first.Raised);
        Assert.Equal("node.down.node.a", raised.Id);
        Assert.True(raised.Active);
        Assert.Equal(_time.GetUtcNow(), raised.FirstSeen);

        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.True(Pass(Down).IsEmpty);
    }

    [Fact]
    public void Apply_SteadyAlarm_LastSeenRefreshedAtTheResolution()
    {
        var raisedAt = _time.GetUtcNow();
        Pass(Down);
        _time.Advance(TimeSpan.FromSeconds(31));

        var refreshed = Assert.Single(Pass(Down).Updated);
        Assert.Equal(raisedAt, refreshed.FirstSeen);
        Assert.Equal(_time.GetUtcNow(), refreshed.LastSeen);
    }

    [Fact]
    public void Apply_ConditionGone_ClearedAndKeptInactive()
    {
        Pass(Down);
        _time.Advance(TimeSpan.FromSeconds(5));

        var cleared = Assert.Single(Pass().Cleared);
        Assert.False(cleared.Active);
        Assert.Equal(_time.GetUtcNow(), cleared.LastSeen);
        Assert.True(Pass().IsEmpty);
    }

    [Fact]
    public void Apply_ClearedAlarmComesBack_RaisedAgainWithAckReset()
    {
        Pass(Down);
        _store[Down.Id] = _store[Down.Id] with { Acknowledged = true, AcknowledgedBy = "key:ops", AcknowledgedAt = _time.GetUtcNow() };
        _time.Advance(TimeSpan.FromSeconds(5));
        Pass();
        _time.Advance(TimeSpan.FromSeconds(5));

        var again = Assert.Single(Pass(Down).Raised);
        Assert.True(again.Active);
        Assert.False(again.Acknowledged);
        Assert.Equal(_time.GetUtcNow(), again.FirstSeen);
    }

    [Fact]
    public void Apply_AcknowledgedAlarm_StaysAcknowledgedWhileActive()
    {
        Pass(Down);
        _store[Down.Id] = _store[Down.Id] with { Acknowledged = true, AcknowledgedBy = "key:ops" };
        _time.Advance(TimeSpan.FromMinutes(1));

        var updated = Assert.Single(Pass(Down).Updated);
        Assert.True(updated.Acknowledged);
    }

    [Fact]
    public void Apply_HoldFor_RaisedOnlyAfterTheConditionHeldThatLong()
    {
        var degraded = new AlarmCondition(HealthMonitor.ServiceDegraded, AlarmSeverity.Warning, "service/web", "1 of 2", TimeSpan.FromSeconds(30));
        var since = _time.GetUtcNow();
        Assert.True(Pass(degraded).IsEmpty);
        _time.Advance(TimeSpan.FromSeconds(29));
        Assert.True(Pass(degraded).IsEmpty);
        _time.Advance(TimeSpan.FromSeconds(1));

        var raised = Assert.Single(Pass(degraded).Raised);
        Assert.Equal(since, raised.FirstSeen);
    }

    [Fact]
    public void Apply_HeldConditionThatLapses_StartsItsHoldAgain()
    {
        var degraded = new AlarmCondition(HealthMonitor.ServiceDegraded, AlarmSeverity.Warning, "service/web", "1 of 2", TimeSpan.FromSeconds(30));
        Pass(degraded);
        _time.Advance(TimeSpan.FromSeconds(20));
        Pass();
        _time.Advance(TimeSpan.FromSeconds(20));
        Assert.True(Pass(degraded).IsEmpty);
        _time.Advance(TimeSpan.FromSeconds(29));
        Assert.True(Pass(degraded).IsEmpty);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Single(Pass(degraded).Raised);
    }

    [Fact]
    public void Apply_NewMessageOrSeverity_UpdatesAtOnce()
    {
        Pass(new AlarmCondition(HealthMonitor.ServiceDegraded, AlarmSeverity.Warning, "service/web", "1 of 2"));
        _time.Advance(TimeSpan.FromSeconds(1));

        var updated = Assert.Single(Pass(new AlarmCondition(HealthMonitor.ServiceDegraded, AlarmSeverity.Critical, "service/web", "0 of 2")).Updated);
        Assert.Equal(AlarmSeverity.Critical, updated.Severity);
        Assert.Equal("0 of 2", updated.Message);
    }

    private AlarmChanges Pass(params AlarmCondition[] conditions)
    {
        var changes = _book.Apply(_store, conditions, _time.GetUtcNow());
        foreach (var alarm in changes.Raised.Concat(changes.Cleared).Concat(changes.Updated))
        {
            _store[alarm.Id] = alarm;
        }
        return changes;
    }
}
