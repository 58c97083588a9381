namespace Corral.Core.Scheduling;

/// <summary>The scheduler's answer for one <see cref="PlacementRequest"/>.</summary>
public abstract record PlacementDecision(string ReplicaId, string Service)
{
    /// <summary>The replica goes to <paramref name="Node"/>.</summary>
    public sealed record Placed(string ReplicaId, string Service, string Node, double Score) : PlacementDecision(ReplicaId, Service);

    /// <summary>No node fits; <paramref name="Reason"/> says why, e.g. "0 of 3 nodes have 512M memory free".</summary>
    public sealed record Unplaced(string ReplicaId, string Service, string Reason) : PlacementDecision(ReplicaId, Service);
}
