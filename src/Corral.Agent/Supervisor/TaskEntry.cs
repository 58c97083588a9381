using Corral.Agent.Logs;

namespace Corral.Agent.Supervisor;

/// <summary>The supervisor's record of one task id across its runs. Guarded by <see cref="Gate"/>.</summary>
internal sealed class TaskEntry(SupervisedTaskInfo info)
{
    public Lock Gate { get; } = new();

    public SupervisedTaskInfo Info { get; set; } = info;

    public TaskRun? Run { get; set; }

    public TaskLogWriter? Log { get; set; }

    /// <summary>Serialises start, stop and remove of this task.</summary>
    public SemaphoreSlim Operation { get; } = new(1, 1);
}
