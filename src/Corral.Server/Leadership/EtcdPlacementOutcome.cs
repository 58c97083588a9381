namespace Corral.Server.Leadership;

/// <summary>What one pass of <see cref="EtcdLeaderPlacement"/> found and did.</summary>
public enum EtcdPlacementOutcome
{
    /// <summary>The store is not etcd (e.g. SQLite): nothing to place.</summary>
    NotEtcd,

    /// <summary>
    /// Fewer than three voting members: with one, leadership cannot go elsewhere; with two, losing this host loses the
    /// quorum wherever the etcd leader is, so a move would only pause writes for nothing.
    /// </summary>
    TooFewMembers,

    /// <summary>No member is local to this server (or several are, as when every member runs on one machine).</summary>
    NoLocalMember,

    /// <summary>The etcd leader is already on another host.</summary>
    LeaderElsewhere,

    /// <summary>The local member leads, but no other voting member is healthy and caught up.</summary>
    NoHealthyTarget,

    /// <summary>Leadership was moved to another member.</summary>
    Moved,
}
