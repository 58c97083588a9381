using Corral.Store;

namespace Corral.Server.Leadership;

/// <summary>Timing and identity of this server's part in the control plane. Validate with <see cref="Validate"/>.</summary>
public sealed record ControlPlaneOptions
{
    /// <value>
    /// This server's name: the value it campaigns with, shown as the leader and as the actor (<c>leader:NAME</c>) of what
    /// the controllers do. Letters, digits, '.', '_' and '-', at most 253 characters. Default the machine's name.
    /// </value>
    public string ServerName { get; init; } = Environment.MachineName;

    /// <value>
    /// TTL of the leadership lease: after a leader dies, another server leads no sooner than this. Whole seconds,
    /// 1 to 60. Default <see cref="HaTiming.Default"/>'s lease TTL (2 s).
    /// </value>
    public TimeSpan ElectionTtl { get; init; } = HaTiming.Default.LeaseTtl;

    /// <value>How often the leader renews its lease; null means <c>ElectionTtl / 5</c>. See <see cref="HaTiming"/> for the rules.</value>
    public TimeSpan? RenewInterval { get; init; }

    /// <value>
    /// How long before its lease could expire a leader whose renewals go unanswered steps down; null means
    /// <c>ElectionTtl / 5</c> (at least 200 ms). See <see cref="HaTiming"/> for the rules.
    /// </value>
    public TimeSpan? StepDownMargin { get; init; }

    /// <value>
    /// The reconciler runs at least this often even when nothing in the store changed (eviction timeouts are
    /// measured on the leader's clock). 50 ms to 60 s. Default 1 s.
    /// </value>
    public TimeSpan ReconcileInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <value>A node with no heartbeat for this long is marked down. 1 s to 5 min. Default 5 s.</value>
    public TimeSpan HeartbeatGrace { get; init; } = TimeSpan.FromSeconds(5);

    /// <value>
    /// How long the reconciler waits after a change before it plans, so a burst of changes costs one pass.
    /// 0 to 1 s. Default 50 ms.
    /// </value>
    public TimeSpan ReconcileDebounce { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <value>Longest wait an agent may ask for in a blocking assignments query (longer asks are cut to this). 1 s to 10 min. Default 5 min.</value>
    public TimeSpan MaxAssignmentsWait { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The election timing these options give (lease TTL, renew interval, step-down margin, with the store's defaults for
    /// those not set): what the elector campaigns with, and what work bounded by the term's deadline plans with.
    /// </summary>
    public ElectionOptions Election => new() { Ttl = ElectionTtl, RenewInterval = RenewInterval, StepDownMargin = StepDownMargin };

    /// <summary>These options with the leadership part of <paramref name="timing"/>: its lease TTL, renew interval and step-down margin.</summary>
    public ControlPlaneOptions WithTiming(HaTiming timing)
    {
        ArgumentNullException.ThrowIfNull(timing);
        return this with { ElectionTtl = timing.LeaseTtl, RenewInterval = timing.RenewInterval, StepDownMargin = timing.StepDownMargin };
    }

    /// <summary>The defaults.</summary>
    public static ControlPlaneOptions Default { get; } = new();

    /// <summary>Returns every problem with these options, each naming its field; empty when they are valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrEmpty(ServerName) || ServerName.Length > 253 || !ServerName.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
        {
            errors.Add($"ServerName '{ServerName}' must be 1 to 253 characters of letters, digits, '.', '_' and '-'");
        }
        if (ElectionTtl < TimeSpan.FromSeconds(1) || ElectionTtl > TimeSpan.FromSeconds(60) || ElectionTtl.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            errors.Add($"ElectionTtl {ElectionTtl.TotalSeconds} s must be whole seconds from 1 to 60");
        }
        if (RenewInterval is { } renew && (renew <= TimeSpan.Zero || renew * 3 > ElectionTtl))
        {
            errors.Add($"RenewInterval {renew.TotalMilliseconds} ms must be positive and at most a third of ElectionTtl");
        }
        if (StepDownMargin is { } margin && (margin < HaTiming.MinStepDownMargin || margin >= ElectionTtl - (RenewInterval ?? ElectionTtl / 5)))
        {
            errors.Add($"StepDownMargin {margin.TotalMilliseconds} ms must be at least {HaTiming.MinStepDownMargin.TotalMilliseconds} ms (less allows two leaders) and less than ElectionTtl - RenewInterval");
        }
        if (ReconcileInterval < TimeSpan.FromMilliseconds(50) || ReconcileInterval > TimeSpan.FromSeconds(60))
        {
            errors.Add($"ReconcileInterval {ReconcileInterval.TotalMilliseconds} ms must be from 50 ms to 60 s");
        }
        if (HeartbeatGrace < TimeSpan.FromSeconds(1) || HeartbeatGrace > TimeSpan.FromMinutes(5))
        {
            errors.Add($"HeartbeatGrace {HeartbeatGrace.TotalSeconds} s must be from 1 s to 5 min");
        }
        if (ReconcileDebounce < TimeSpan.Zero || ReconcileDebounce > TimeSpan.FromSeconds(1))
        {
            errors.Add($"ReconcileDebounce {ReconcileDebounce.TotalMilliseconds} ms must be from 0 to 1 s");
        }
        if (MaxAssignmentsWait < TimeSpan.FromSeconds(1) || MaxAssignmentsWait > TimeSpan.FromMinutes(10))
        {
            errors.Add($"MaxAssignmentsWait {MaxAssignmentsWait.TotalSeconds} s must be from 1 s to 10 min");
        }
        return errors;
    }

    /// <summary>Throws <see cref="ArgumentException"/> listing every problem when these options are not valid.</summary>
    public void ThrowIfInvalid()
    {
        var errors = Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("invalid ControlPlaneOptions: " + string.Join("; ", errors), "options");
        }
    }
}
