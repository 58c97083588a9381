using Corral.Core.Tasks;

namespace Corral.Core.Cluster;

/// <summary>One scheduled instance of a service (Nomad's allocation). Immutable.</summary>
public sealed record Replica
{
    /// <summary>Unique id, e.g. <c>web-7f3a9c2e</c>.</summary>
    public required string Id { get; init; }

    /// <summary>The service it belongs to.</summary>
    public required string Service { get; init; }

    /// <summary>The service version it runs.</summary>
    public required string Version { get; init; }

    /// <summary>
    /// The node it is assigned to; null while pending, except for a pending replica of a global service, which is
    /// meant for exactly this node.
    /// </summary>
    public string? Node { get; init; }

    /// <value>Default <see cref="ReplicaPhase.Pending"/>.</value>
    public ReplicaPhase Phase { get; init; } = ReplicaPhase.Pending;

    /// <summary>The node-reported state, once the node reported one.</summary>
    public ReplicaState? State { get; init; }

    /// <summary>Why it is in its phase or state (unplaceable reason, failure reason).</summary>
    public string Reason { get; init; } = "";

    /// <summary>Monotonic creation order within the cluster (the store revision that created it): newest are stopped first.</summary>
    public long CreatedRevision { get; init; }

    /// <summary>CPU reserved on its node, in cores (from the service's resources).</summary>
    public double CpuCores { get; init; }

    /// <summary>Memory reserved on its node, in bytes.</summary>
    public long MemoryBytes { get; init; }

    /// <summary>Dynamic ports it holds on its node.</summary>
    public int PortCount { get; init; }

    /// <summary>True while the replica holds resources on a node.</summary>
    public bool Active => Phase is ReplicaPhase.Assigned or ReplicaPhase.Stopping;

    /// <summary>True once the node reports it healthy.</summary>
    public bool Healthy => Phase == ReplicaPhase.Assigned && State == ReplicaState.Healthy;
}
