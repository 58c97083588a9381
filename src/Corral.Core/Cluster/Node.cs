namespace Corral.Core.Cluster;

/// <summary>A machine (or namespace) that runs an agent. Immutable; a change is a new value.</summary>
public sealed record Node
{
    /// <summary>Unique node name (its certificate's identity).</summary>
    public required string Name { get; init; }

    /// <summary>Addresses the node reported, first preferred.</summary>
    public IReadOnlyList<string> Addresses { get; init; } = [];

    /// <summary>
    /// The labels placement constraints match: <see cref="AgentLabels"/> with <see cref="OperatorLabels"/> laid over
    /// them (an operator label wins over an agent label of the same name). Kept in step by <see cref="WithLabels"/>.
    /// </summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new SortedDictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Labels the node's agent reports at registration (<c>corral agent --label</c>); replaced at each registration.</summary>
    public IReadOnlyDictionary<string, string> AgentLabels { get; init; } = new SortedDictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Labels set through the API (<c>corral node label</c>); an agent's registration never changes them.</summary>
    public IReadOnlyDictionary<string, string> OperatorLabels { get; init; } = new SortedDictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Schedulable CPU, in cores.</summary>
    public double CpuCores { get; init; }

    /// <summary>Schedulable memory, in bytes.</summary>
    public long MemoryBytes { get; init; }

    /// <summary>The port capacity of the default port range, 20000–32767.</summary>
    public const int DefaultPortCapacity = 12_768;

    /// <value>How many dynamic ports the node's port range (<c>corral agent --ports</c>) holds. Default 12,768 (20000–32767).</value>
    public int PortCapacity { get; init; } = DefaultPortCapacity;

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

    /// <summary>This node with the given label sets (null keeps a set) and <see cref="Labels"/> merged from them.</summary>
    public Node WithLabels(IReadOnlyDictionary<string, string>? agent = null, IReadOnlyDictionary<string, string>? @operator = null)
    {
        var agentLabels = new SortedDictionary<string, string>((IDictionary<string, string>)(agent ?? AgentLabels).ToDictionary(l => l.Key, l => l.Value, StringComparer.Ordinal), StringComparer.Ordinal);
        var operatorLabels = new SortedDictionary<string, string>((IDictionary<string, string>)(@operator ?? OperatorLabels).ToDictionary(l => l.Key, l => l.Value, StringComparer.Ordinal), StringComparer.Ordinal);
        var merged = new SortedDictionary<string, string>(agentLabels, StringComparer.Ordinal);
        foreach (var (key, value) in operatorLabels)
        {
            merged[key] = value;
        }
        return this with { AgentLabels = agentLabels, OperatorLabels = operatorLabels, Labels = merged };
    }
}
