using Corral.Agent.Supervisor;
using Corral.Testing;
using Corral.Testing.Logging;
using Microsoft.Extensions.Logging;

namespace Corral.Agent.Tests.Supervisor;

/// <summary>Which fence decisions reach the supervisor's log: all of them, but renewals (one a second per singleton) summed up.</summary>
public sealed class FenceJournalTests
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(10);

    [Fact]
    public void Renewals_FirstAfterArmingThenOneSummaryAMinutePerTask_EachAtDebug()
    {
        var time = new ManualTimeProvider();
        using var logs = new RecordingLoggerProvider(time);
        var journal = new FenceJournal(logs.CreateLogger<NodeSupervisor>(), time);

        journal.Armed("locker", time.GetUtcNow() + Within, Within);
        journal.Armed("other", time.GetUtcNow() + Within, Within);
        // One renewal a second for 150 s, as an agent whose heartbeats are acknowledged renews a singleton's fence.
        for (var second = 1; second <= 150; second++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            journal.Renewed("locker", time.GetUtcNow() + Within);
        }

        var info = logs.Records.Where(r => r.Level >= LogLevel.Information && r.Message.Contains("locker", StringComparison.Ordinal)).ToList();
        Assert.Equal([6210, 6211, 6213, 6213], info.Select(r => r.EventId.Id));
        var start = new ManualTimeProvider().GetUtcNow();
        // The first renewal at 1 s; a minute later a line for the 60 renewals since (2 s … 61 s); another at 121 s.
        Assert.Equal([start, start.AddSeconds(1), start.AddSeconds(61), start.AddSeconds(121)], info.Select(r => r.At));
        Assert.Contains("renewed 60 times in the last 60 s: deadline now " + start.AddSeconds(71).ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture), info[2].Message, StringComparison.Ordinal);
        Assert.Contains("renewed 60 times", info[3].Message, StringComparison.Ordinal);
        Assert.Equal(150, logs.Records.Count(r => r.EventId.Id == 6212 && r.Level == LogLevel.Debug));
        Assert.DoesNotContain(logs.Records, r => r.Message.Contains("other", StringComparison.Ordinal) && r.EventId.Id != 6210);
    }

    [Fact]
    public void ArmedAgainAfterFiringOrClearing_FirstRenewalIsLoggedAgain()
    {
        var time = new ManualTimeProvider();
        using var logs = new RecordingLoggerProvider(time);
        var journal = new FenceJournal(logs.CreateLogger<NodeSupervisor>(), time);

        journal.Armed("locker", time.GetUtcNow() + Within, Within);
        journal.Renewed("locker", time.GetUtcNow() + Within);
        journal.Renewed("locker", time.GetUtcNow() + Within);
        journal.Fired("locker", time.GetUtcNow() + Within);
        journal.Armed("locker", time.GetUtcNow() + Within, Within);
        journal.Renewed("locker", time.GetUtcNow() + Within);
        journal.Cleared("locker");
        journal.Armed("locker", time.GetUtcNow() + Within, Within);
        journal.Renewed("locker", time.GetUtcNow() + Within);

        Assert.Equal([6210, 6211, 6215, 6210, 6211, 6214, 6210, 6211], logs.Records.Where(r => r.Level >= LogLevel.Information).Select(r => r.EventId.Id));
        var fired = logs.Records.Single(r => r.EventId.Id == 6215);
        Assert.Equal(LogLevel.Warning, fired.Level);
        Assert.Null(fired.Exception);
    }
}
