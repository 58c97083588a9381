using Corral.Core.Cluster;
using Corral.Core.Services;

namespace Corral.Core.Reconciliation;

/// <summary>A read-only view of desired and actual state, as read from the store at one revision.</summary>
/// <param name="Services">Desired services.</param>
/// <param name="Replicas">Every replica that is not yet terminal (pending, assigned, stopping).</param>
/// <param name="Nodes">Every known node.</param>
/// <param name="Now">The leader's clock, for eviction timeouts.</param>
public sealed record ReconcileInput(
    IReadOnlyList<ServiceSpec> Services,
    IReadOnlyList<Replica> Replicas,
    IReadOnlyList<Node> Nodes,
    DateTimeOffset Now);
