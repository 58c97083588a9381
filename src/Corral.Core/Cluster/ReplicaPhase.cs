namespace Corral.Core.Cluster;

/// <summary>A replica's life as the control plane tracks it (the node reports the finer <see cref="Tasks.ReplicaState"/>).</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(EnumJsonConverter<ReplicaPhase>))]
public enum ReplicaPhase
{
    /// <summary>Wanted but not placed: no node fits. The reason says why.</summary>
    Pending,

    /// <summary>Assigned to a node, which is starting or running it.</summary>
    Assigned,

    /// <summary>Told to stop; the node has not confirmed yet.</summary>
    Stopping,

    /// <summary>Stopped for good (scaled down, replaced, service removed).</summary>
    Stopped,

    /// <summary>Its node was down past the eviction timeout; a replacement was placed.</summary>
    Lost,

    /// <summary>Crash-looped past its restart policy on its node.</summary>
    Failed,
}
