using Corral.Agent.Stats;
using Corral.Core.Tasks;

namespace Corral.Agent.Runtime;

/// <summary>One replica as <c>status.json</c> shows it.</summary>
public sealed record ReplicaView
{
    public required ReplicaState State { get; init; }

    public required DateTimeOffset Since { get; init; }

    public required string Reason { get; init; }

    public int? LastExitCode { get; init; }

    /// <summary>Leader PID of the current run; 0 when none runs.</summary>
    public int Pid { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public IReadOnlyDictionary<string, int> Ports { get; init; } = new Dictionary<string, int>();

    /// <summary>Restarts granted by the restart policy since the runner started.</summary>
    public int Restarts { get; init; }

    /// <summary>Log offset delivered to the log sink so far.</summary>
    public long LogOffset { get; init; }

    /// <summary><c>limits not enforced: REASON</c> when the task's limits could not be applied.</summary>
    public string? LimitsNote { get; init; }

    /// <summary>CPU and memory of the task's process tree at the last sample; null while it does not run.</summary>
    public TaskStats? Stats { get; init; }
}
