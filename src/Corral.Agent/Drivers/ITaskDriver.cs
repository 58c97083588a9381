using Corral.Agent.Stats;

namespace Corral.Agent.Drivers;

/// <summary>
/// Runs tasks of one kind on this node. Modelled on Nomad's driver plugin: Start returns a handle with
/// serialisable driver state; Recover re-attaches to a task that survived an agent restart from that
/// handle, without restarting it. Calls for different tasks may run concurrently. Every method throws
/// <see cref="DriverUnavailableException"/> when the driver's backend is gone.
/// </summary>
public interface ITaskDriver
{
    /// <summary>The driver's name, recorded in handles (<c>process</c>).</summary>
    string Name { get; }

    /// <summary>Starts the task. Throws <see cref="TaskStartException"/> naming the problem when it cannot run.</summary>
    Task<TaskHandle> StartAsync(TaskConfig config, CancellationToken cancellationToken);

    /// <summary>Completes when the task's run named by <paramref name="handle"/> has exited and its output is complete.</summary>
    Task<TaskExit> WaitAsync(TaskHandle handle, CancellationToken cancellationToken);

    /// <summary>
    /// Stops the task: <paramref name="signal"/> (null: its stop signal) to the whole task, then a kill after
    /// <paramref name="timeout"/> (null: its stop timeout). Returns once it has exited; null when it was not running.
    /// </summary>
    Task<TaskExit?> StopAsync(TaskHandle handle, string? signal, TimeSpan? timeout, CancellationToken cancellationToken);

    /// <summary>
    /// Sets the task's fence (null clears it): the backend stops the task unless the fence is renewed within
    /// <paramref name="within"/>, and refuses to start it after that until renewed, whether or not the agent still runs.
    /// </summary>
    Task FenceAsync(string taskId, TimeSpan? within, CancellationToken cancellationToken);

    /// <summary>Stops the task if it runs and forgets it. Safe to call without a prior Start, and more than once.</summary>
    Task DestroyAsync(string taskId, CancellationToken cancellationToken);

    /// <summary>
    /// Re-attaches to the task the handle names. Returns its inspection (running, or exited while nobody
    /// watched); throws <see cref="TaskNotRecoverableException"/> when that run no longer exists.
    /// </summary>
    Task<TaskInspection> RecoverAsync(TaskHandle handle, CancellationToken cancellationToken);

    /// <summary>The task's current state; null when the driver does not know it.</summary>
    Task<TaskInspection?> InspectAsync(string taskId, CancellationToken cancellationToken);

    /// <summary>
    /// CPU and memory of each running task's whole process tree, by task id, sampled in one pass. CPU % is
    /// measured since the previous call that included the task (0 on the first); a task that no longer runs is absent.
    /// </summary>
    Task<IReadOnlyDictionary<string, TaskStats>> StatsAsync(IReadOnlyCollection<TaskHandle> handles, CancellationToken cancellationToken);
}
