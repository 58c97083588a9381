namespace Corral.Agent.Supervisor;

/// <summary>
/// A task's state as the supervisor knows it; this is also what it records (atomically) in
/// <c>DATA/tasks/ID/state.json</c>. A run is named by <see cref="Generation"/>, which grows with each start.
/// </summary>
public sealed record SupervisedTaskInfo
{
    public required string Id { get; init; }

    public required SupervisedTaskState State { get; init; }

    /// <summary>1 for the first start under this id, then one more per start.</summary>
    public long Generation { get; init; }

    /// <summary>PID of the task's leader; also its process group and session id. 0 when it never started.</summary>
    public int Pid { get; init; }

    /// <summary>Process group of the task (equal to <see cref="Pid"/>).</summary>
    public int Pgid { get; init; }

    /// <summary>Start time of the leader in clock ticks since boot, as in /proc: with the PID it identifies the process.</summary>
    public ulong StartTicks { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>Exit status; for a death by signal, 128 + the signal number.</summary>
    public int? ExitCode { get; init; }

    /// <summary>The signal that ended the task, when it died by one.</summary>
    public int? Signal { get; init; }

    public DateTimeOffset? ExitedAt { get; init; }

    /// <summary>Why the task failed to start or was lost.</summary>
    public string? Error { get; init; }

    /// <summary><c>limits not enforced: REASON</c> when limits were asked for and could not be written; null otherwise.</summary>
    public string? LimitsNote { get; init; }

    /// <summary>Cgroup directories of the task (one for v2; one per controller for v1).</summary>
    public IReadOnlyList<string> Cgroups { get; init; } = [];

    /// <summary>Log offset just past the last byte written so far.</summary>
    public long LogOffset { get; init; }

    /// <summary>Log offset at which this run's output starts.</summary>
    public long RunLogOffset { get; init; }

    public required SupervisedTaskSpec Spec { get; init; }
}
