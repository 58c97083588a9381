using Corral.Agent.Stats;

namespace Corral.Agent.Runtime;

/// <summary>The agent's <c>status.json</c>: every replica's state, rewritten atomically on each change.</summary>
public sealed record AgentStatusFile
{
    public required DateTimeOffset UpdatedAt { get; init; }

    public required int AgentPid { get; init; }

    public int? SupervisorPid { get; init; }

    public string? SupervisorInstance { get; init; }

    public required IReadOnlyDictionary<string, ReplicaView> Replicas { get; init; }

    /// <summary>The node's CPU, memory, disk and load at the last sample.</summary>
    public NodeStats? Node { get; init; }
}
