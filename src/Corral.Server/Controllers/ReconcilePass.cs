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
    int Lost)
{
    /// <summary>How many of the first <see cref="Transactions"/> write service version records (and nothing else).</summary>
    public int VersionTransactions { get; init; }

    /// <summary>
    /// True when the transactions after the version records only create replicas, place pending ones or record why
    /// they stay pending: none frees capacity another relies on, so any subset of them committed leaves the cluster
    /// within what the plan allowed, and they may be committed concurrently.
    /// </summary>
    public bool Independent { get; init; }
}
