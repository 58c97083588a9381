using Corral.Core.Reconciliation;
using Corral.Server.State;
using Corral.Store;

namespace Corral.Server.Controllers;

/// <summary>A plan computed from one snapshot, already cut into transactions that each carry their own compares.</summary>
/// <param name="Transactions">
/// The first <paramref name="Ordered"/> (losses, stops, deletions) must commit in order, stopping at the first refused;
/// the rest (creations and placements) only once those all committed, and then in any order or concurrently: any subset
/// of them is safe, because each compares what it was decided from and none relies on capacity another one frees.
/// </param>
internal sealed record ReconcilePass(
    ClusterSnapshot Snapshot,
    ReconcilePlan Plan,
    IReadOnlyList<Txn> Transactions,
    int Ordered,
    int Placed,
    int Pending,
    int Stopping,
    int Deleted,
    int Lost);
