using Corral.Core.Services;

namespace Corral.Core.Scheduling;

/// <summary>One replica to place.</summary>
/// <param name="Service">The service (its placement and resources decide where it fits).</param>
/// <param name="ReplicaId">The id the new replica will have.</param>
/// <param name="TargetNode">For global services: the one node this replica is for; null lets the scheduler choose.</param>
public sealed record PlacementRequest(ServiceSpec Service, string ReplicaId, string? TargetNode = null);
