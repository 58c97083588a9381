using Corral.Core.Reconciliation;
using Corral.Server.State;
using Corral.Store;

namespace Corral.Server.Controllers;

/// <summary>A plan computed from one snapshot, already cut into transactions that each carry their own compares.</summary>
internal sealed record ReconcilePass(
    ClusterSnapshot Snapshot,
    ReconcilePlan Plan,
    IReadOnlyList<Txn> Transactions,
    int Placed,
    int Pending,
    int Stopping,
    int Deleted,
    int Lost);
