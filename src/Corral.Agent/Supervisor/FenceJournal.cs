using Microsoft.Extensions.Logging;

namespace Corral.Agent.Supervisor;

/// <summary>
/// Which fence decisions of a supervisor's tasks reach its log at Information: every arming, clearing and firing, and
/// of the renewals (one per heartbeat a server acknowledged, about one a second per singleton) only the first after
/// arming, then at most one line a minute per task with how many came and the deadline in force; every renewal is
/// logged at Debug. Not thread-safe: the supervisor calls it under its lock, in the order it took the decisions.
/// </summary>
internal sealed class FenceJournal(ILogger logger, TimeProvider time)
{
    private readonly Dictionary<string, Renewals> _renewals = new(StringComparer.Ordinal);

    /// <summary>The least time between two renewal summaries of one task: 1 minute.</summary>
    public static TimeSpan SummaryInterval { get; } = TimeSpan.FromMinutes(1);

    /// <summary>A fence was set on a task that had none (or whose last one fired or was cleared).</summary>
    public void Armed(string id, DateTimeOffset deadline, TimeSpan within)
    {
        _renewals[id] = new Renewals();
        SupervisorLog.FenceArmed(logger, id, deadline, within.TotalSeconds);
    }

    /// <summary>A fence in force was set again before its deadline: the deadline moves to <paramref name="deadline"/>.</summary>
    public void Renewed(string id, DateTimeOffset deadline)
    {
        SupervisorLog.FenceRenewed(logger, id, deadline);
        var now = time.GetUtcNow();
        if (!_renewals.TryGetValue(id, out var renewals))
        {
            renewals = new Renewals();
            _renewals[id] = renewals;
        }
        if (!renewals.FirstLogged)
        {
            renewals.FirstLogged = true;
            renewals.Since = now;
            SupervisorLog.FenceFirstRenewal(logger, id, deadline);
            return;
        }
        renewals.Count++;
        if (now - renewals.Since >= SummaryInterval)
        {
            SupervisorLog.FenceRenewals(logger, id, renewals.Count, (now - renewals.Since).TotalSeconds, deadline);
            renewals.Since = now;
            renewals.Count = 0;
        }
    }

    /// <summary>The fence was removed (the agent cleared it, or the task was removed).</summary>
    public void Cleared(string id)
    {
        _renewals.Remove(id);
        SupervisorLog.FenceCleared(logger, id);
    }

    /// <summary>The deadline passed without a renewal.</summary>
    public void Fired(string id, DateTimeOffset deadline)
    {
        _renewals.Remove(id);
        SupervisorLog.FenceFired(logger, id, deadline);
    }

    /// <summary>Renewals of one fence since the last line about them.</summary>
    private sealed class Renewals
    {
        public bool FirstLogged { get; set; }

        public DateTimeOffset Since { get; set; }

        public int Count { get; set; }
    }
}
