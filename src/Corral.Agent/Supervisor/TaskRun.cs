namespace Corral.Agent.Supervisor;

/// <summary>One start of a task: the process, its pumps, and the completion that fires when it has exited and its logs are flushed.</summary>
internal sealed class TaskRun(long generation)
{
    public long Generation { get; } = generation;

    public int Pid { get; set; }

    public IReadOnlyList<string> Cgroups { get; set; } = [];

    public Task Pumps { get; set; } = Task.CompletedTask;

    public List<IDisposable> Streams { get; } = [];

    /// <summary>Completed once the run's info is recorded; exit handling waits for it so an instant exit cannot overtake the start.</summary>
    public TaskCompletionSource Ready { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The info recorded at exit.</summary>
    public TaskCompletionSource<SupervisedTaskInfo> Exited { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
