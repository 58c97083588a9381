namespace Corral.Core.Cluster;

/// <summary>A machine (or namespace) that runs an agent. Immutable; a change is a new value.</summary>
public sealed record Node
{
    /// <summary>Unique node name (its certificate's identity).</summary>
    public required string Name { get; init; }

    /// <summary>Addresses the node reported, first preferred.</summary>
    public IReadOnlyList<string> Addresses { get; init; } = [];

    /// <summary>Operator-set labels used by placement constraints.</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new SortedDictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Schedulable CPU, in cores.</summary>
    public double CpuCores { get; init; }

    /// <summary>Schedulable memory, in bytes.</summary>
    public long MemoryBytes { get; init; }

    /// <value>How many dynamic ports the node's port range holds. Default 12,768 (20000–32767).</value>
    public int PortCapacity { get; init; } = 12_768;

    /// <value>Default <see cref="NodeStatus.Ready"/>.</value>
    public NodeStatus Status { get; init; } = NodeStatus.Ready;

    /// <summary>
    /// When <see cref="Status"/> last changed; for a down node, when it was last heard from (its last heartbeat), so its
    /// replicas are lost <c>eviction_timeout</c> after the node fell silent.
    /// </summary>
    public DateTimeOffset StatusSince { get; init; }

    /// <value>False while drained or drain is in progress: no new replica is placed on it. Default true.</value>
    public bool Eligible { get; init; } = true;

    /// <value>True while its replicas are being moved away (each replacement healthy before the old one stops). Default false.</value>
    public bool Draining { get; init; }

    /// <summary>True when new replicas may be placed here.</summary>
    public bool Schedulable => Status == NodeStatus.Ready && Eligible;
}
