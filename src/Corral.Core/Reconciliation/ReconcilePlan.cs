using Corral.Core.Cluster;
using Corral.Core.Scheduling;

namespace Corral.Core.Reconciliation;

/// <summary>A replica to stop, and why.</summary>
public sealed record StopAction(string ReplicaId, string Service, string Reason);

/// <summary>A replica whose node was down past the service's eviction timeout.</summary>
public sealed record LostAction(string ReplicaId, string Service, string Node, string Reason);

/// <summary>
/// What the reconciler wants done, computed from one <see cref="ReconcileInput"/>: new replicas (with the scheduler's
/// decision for each, and for pending ones retried), replicas to stop, replicas lost. Committing it is the caller's
/// job, with a compare on the revision the input was read at.
/// </summary>
public sealed record ReconcilePlan(
    IReadOnlyList<Replica> Create,
    IReadOnlyList<PlacementDecision> Placements,
    IReadOnlyList<StopAction> Stop,
    IReadOnlyList<LostAction> Lost)
{
    public bool IsEmpty => Create.Count == 0 && Placements.Count == 0 && Stop.Count == 0 && Lost.Count == 0;
}
