namespace Corral.Server.Controllers;

/// <summary>What one reconcile pass did.</summary>
/// <param name="SnapshotRevision">The store revision the plan was computed from.</param>
/// <param name="Placed">Replicas assigned to a node (new or previously pending).</param>
/// <param name="Pending">Replicas written as pending with a new reason.</param>
/// <param name="Stopping">Replicas told to stop.</param>
/// <param name="Deleted">Replica keys deleted (stopped before they ran, stop confirmed by a node's loss, housekeeping).</param>
/// <param name="Lost">Replicas declared lost (node down past the eviction timeout, or removed): written with phase Lost, not replaced in place.</param>
/// <param name="Transactions">Transactions the plan needed.</param>
/// <param name="Committed">Transactions committed; less than <paramref name="Transactions"/> only when the plan went stale.</param>
/// <param name="Stale">True when a compare failed: the rest of the plan was not applied.</param>
/// <param name="LeadershipLost">True when the compare that failed was the leader's own: this server may no longer commit.</param>
public sealed record ReconcileOutcome(
    long SnapshotRevision,
    int Placed,
    int Pending,
    int Stopping,
    int Deleted,
    int Lost,
    int Transactions,
    int Committed,
    bool Stale,
    bool LeadershipLost)
{
    /// <summary>True when the pass had nothing to do.</summary>
    public bool Idle => Transactions == 0;
}
