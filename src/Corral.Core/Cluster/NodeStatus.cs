namespace Corral.Core.Cluster;

/// <summary>Liveness of a node as the control plane sees it.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(EnumJsonConverter<NodeStatus>))]
public enum NodeStatus
{
    /// <summary>Heartbeating; replicas may be placed on it when it is also eligible.</summary>
    Ready,

    /// <summary>No heartbeat for <c>heartbeat_grace</c>; its replicas are kept until their eviction timeout.</summary>
    Down,
}
