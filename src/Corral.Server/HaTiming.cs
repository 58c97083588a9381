namespace Corral.Server;

/// <summary>
/// Timing of leadership and of a managed etcd member, validated as a whole: <see cref="Validate"/> refuses every
/// combination that could let two servers lead at once, or that etcd itself refuses, each with its reason.
/// </summary>
/// <remarks>
/// <para>A leader renews its lease every <see cref="RenewInterval"/> and gives up leadership (stops its controllers,
/// drops the VIP) <see cref="StepDownMargin"/> before the lease could expire, counted from when the last
/// acknowledged renewal was sent; etcd expires the lease no sooner than <see cref="LeaseTtl"/> after it received that
/// renewal, and a new etcd leader extends leases rather than shortening them. So two leaders are impossible as long
/// as the old leader finishes stepping down within the margin.</para>
/// <para>What a failover costs, from etcd's source (server/lease/lessor.go, etcdserver): a dead leader's lease
/// expires <see cref="LeaseTtl"/> after etcd received its last renewal (so TTL minus up to one renew interval after
/// the death); the etcd leader's lessor looks for expired leases every 500 ms (<c>runLoop</c>), so the revoke, and
/// the delete of the election key the others watch, comes 0–0.5 s later. When the dead host also ran the etcd raft
/// leader, the others first elect a new one (a follower campaigns a randomized 1–2 × election timeout after its last
/// heartbeat) and the new leader's lessor extends every lease by the election timeout (<c>Promote</c>): 1.5–2.5
/// election timeouts more. <see cref="Leadership.EtcdLeaderPlacement"/> keeps the etcd leader off the Corral leader's
/// host so a dead leader host does not cost that too.</para>
/// </remarks>
public sealed record HaTiming
{
    /// <summary>Least step-down margin: the time a leader is given to stop its controllers and drop the VIP.</summary>
    public static readonly TimeSpan MinStepDownMargin = TimeSpan.FromMilliseconds(200);

    /// <value>
    /// TTL of the leadership lease: after a leader dies, another leads no sooner than this. Whole seconds, 1 to 60.
    /// Default 2 s: the shortest whole second that leaves a step-down margin and two renewals well above two etcd
    /// election timeouts (see <see cref="Validate"/>); failover after a dead leader host is then about 1.7–2.5 s.
    /// </value>
    public TimeSpan LeaseTtl { get; init; } = TimeSpan.FromSeconds(2);

    /// <value>
    /// How often the leader renews its lease. At most a third of <see cref="LeaseTtl"/>. Default 300 ms: a dead leader's
    /// lease has at most this much less than the TTL left, and <c>2 s - 500 ms - 300 ms = 1.2 s</c> of unanswered renewals
    /// outlast an etcd election of up to two election timeouts (1 s) with 200 ms to spare.
    /// </value>
    public TimeSpan RenewInterval { get; init; } = TimeSpan.FromMilliseconds(300);

    /// <value>
    /// How long before the lease could expire a leader whose renewals go unanswered steps down. At least 200 ms and
    /// less than <c>LeaseTtl - RenewInterval</c>. Default 500 ms: 2.5 × the least margin, for a leader slowed by a
    /// loaded machine or a garbage collection to stop its controllers and drop the VIP.
    /// </value>
    public TimeSpan StepDownMargin { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <value>
    /// Managed etcd member: raft heartbeat interval (<c>--heartbeat-interval</c>). 10 ms to 1 s. Default 50 ms (a tenth
    /// of the election timeout, etcd's advice; far above a LAN round trip).
    /// </value>
    public TimeSpan EtcdHeartbeat { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <value>
    /// Managed etcd member: raft election timeout (<c>--election-timeout</c>). At least 5 × <see cref="EtcdHeartbeat"/>,
    /// at most 50 s. Default 500 ms: a dead etcd leader is replaced within 0.5–1 s, and etcd's least lease TTL stays
    /// 1 s (<c>ceil(1.5 × 500 ms)</c>), below <see cref="LeaseTtl"/>.
    /// </value>
    public TimeSpan EtcdElectionTimeout { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// The defaults: lease 2 s, renew 300 ms, margin 500 ms, etcd heartbeat 50 ms and election timeout 500 ms. Leader
    /// failover after its host dies in about 2 s (lease 2 s minus up to one renewal, plus up to 0.5 s until etcd's
    /// lessor revokes it; measured in the lab: median 2.12 s, 1.96–2.46 s, see docs/performance.md), no flapping on an
    /// etcd leader change.
    /// </summary>
    public static HaTiming Default { get; } = new();

    /// <summary>
    /// A faster profile for a quiet LAN (failover in about 1–1.5 s; measured in the lab: median 1.09 s, 1.04–1.54 s):
    /// lease 1 s, renew 150 ms, margin 250 ms, etcd heartbeat 25 ms and election timeout 250 ms
    /// (<c>1 s - 250 ms - 150 ms = 600 ms</c> of unanswered renewals outlast an etcd election of up to 500 ms; etcd's
    /// least lease TTL is 1 s).
    /// </summary>
    public static HaTiming Fast { get; } = new()
    {
        LeaseTtl = TimeSpan.FromSeconds(1),
        RenewInterval = TimeSpan.FromMilliseconds(150),
        StepDownMargin = TimeSpan.FromMilliseconds(250),
        EtcdHeartbeat = TimeSpan.FromMilliseconds(25),
        EtcdElectionTimeout = TimeSpan.FromMilliseconds(250),
    };

    /// <summary>
    /// etcd's least lease TTL for <see cref="EtcdElectionTimeout"/>: etcd silently raises a shorter TTL to about
    /// 1.5 × the election timeout (whole seconds, rounded up).
    /// </summary>
    public TimeSpan EtcdMinLeaseTtl => TimeSpan.FromSeconds(Math.Ceiling(EtcdElectionTimeout.TotalSeconds * 1.5));

    /// <summary>Every problem with this timing, each naming its field and why; empty when it is safe.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (LeaseTtl < TimeSpan.FromSeconds(1) || LeaseTtl > TimeSpan.FromSeconds(60) || LeaseTtl.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            errors.Add($"lease_ttl {Show(LeaseTtl)} must be whole seconds from 1 s to 60 s (etcd leases have whole-second TTLs)");
        }
        if (RenewInterval <= TimeSpan.Zero || RenewInterval * 3 > LeaseTtl)
        {
            errors.Add($"renew_interval {Show(RenewInterval)} must be positive and at most a third of lease_ttl ({Show(LeaseTtl)}), so two renewals can fail before the lease is at risk");
        }
        if (StepDownMargin < MinStepDownMargin)
        {
            errors.Add($"step_down_margin {Show(StepDownMargin)} must be at least {Show(MinStepDownMargin)}: a leader needs that long to stop its controllers and drop the VIP, and a smaller margin lets its lease expire, and another server lead, while it still acts as leader (two leaders)");
        }
        else if (StepDownMargin >= LeaseTtl - RenewInterval)
        {
            errors.Add($"step_down_margin {Show(StepDownMargin)} must be less than lease_ttl - renew_interval ({Show(LeaseTtl - RenewInterval)}), or a leader steps down before its first renewal is answered");
        }
        var leadershipOk = errors.Count == 0;
        if (EtcdHeartbeat < TimeSpan.FromMilliseconds(10) || EtcdHeartbeat > TimeSpan.FromSeconds(1))
        {
            errors.Add($"etcd_heartbeat {Show(EtcdHeartbeat)} must be from 10 ms to 1 s");
        }
        if (EtcdElectionTimeout < EtcdHeartbeat * 5 || EtcdElectionTimeout > TimeSpan.FromSeconds(50))
        {
            errors.Add($"etcd_election_timeout {Show(EtcdElectionTimeout)} must be at least 5 × etcd_heartbeat ({Show(EtcdHeartbeat * 5)}) and at most 50 s (etcd refuses to start otherwise)");
        }
        if (LeaseTtl < EtcdMinLeaseTtl)
        {
            errors.Add($"lease_ttl {Show(LeaseTtl)} is below etcd's least lease TTL for etcd_election_timeout {Show(EtcdElectionTimeout)} ({Show(EtcdMinLeaseTtl)}): etcd would silently lengthen it");
        }
        else if (leadershipOk && LeaseTtl - StepDownMargin - RenewInterval <= EtcdElectionTimeout * 2)
        {
            errors.Add($"lease_ttl - step_down_margin - renew_interval ({Show(LeaseTtl - StepDownMargin - RenewInterval)}) must exceed 2 × etcd_election_timeout ({Show(EtcdElectionTimeout * 2)}: etcd followers campaign a randomized 1–2 election timeouts after the leader's last heartbeat), or every etcd leader change deposes the Corral leader");
        }
        return errors;
    }

    /// <summary>Throws <see cref="ArgumentException"/> listing every problem.</summary>
    public void ThrowIfInvalid()
    {
        var errors = Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("unsafe HA timing: " + string.Join("; ", errors));
        }
    }

    private static string Show(TimeSpan value) => Corral.Core.Durations.Format(value);
}
