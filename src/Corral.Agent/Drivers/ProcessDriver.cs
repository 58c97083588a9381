using Corral.Core.Tasks;
using System.Text.Json;
using Corral.Agent.Stats;
using Corral.Agent.Supervisor;

namespace Corral.Agent.Drivers;

/// <summary>
/// Runs tasks as OS processes owned by <c>corral supervisor</c>, through its socket. The agent holds no
/// process: it can crash or restart while tasks run, and Recover finds them again by task id, run
/// generation and the leader's PID and start time.
/// </summary>
public sealed class ProcessDriver(SupervisorClient client, TimeProvider time) : ITaskDriver
{
    private static readonly TimeSpan WaitSlice = TimeSpan.FromSeconds(30);
    private readonly ProcessTreeSampler _sampler = new(time);
    private volatile string? _instance;

    public string Name => "process";

    public async Task<TaskHandle> StartAsync(TaskConfig config, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(config);
        var spec = new SupervisedTaskSpec
        {
            Id = config.Id,
            Command = config.Command,
            Args = config.Args,
            Env = config.Env,
            WorkingDirectory = config.WorkingDirectory,
            User = config.User,
            StopSignal = config.StopSignal,
            StopTimeoutMs = (long)config.StopTimeout.TotalMilliseconds,
            MemoryBytes = config.Resources.MemoryBytes,
            Cpu = config.Resources.Cpu,
            LogDirectory = config.LogDirectory,
            LogMaxSegmentBytes = config.LogMaxSegmentBytes,
            LogMaxSegments = config.LogMaxSegments,
        };
        SupervisedTaskInfo info;
        string instance;
        try
        {
            // The instance is asked once per supervisor, not per start: restarts stay one round trip.
            instance = _instance ??= (await client.HelloAsync(cancellationToken).ConfigureAwait(false)).InstanceId;
            info = await client.StartAsync(spec, cancellationToken).ConfigureAwait(false);
        }
        catch (SupervisorException ex)
        {
            throw new TaskStartException(ex.Message, ex);
        }
        catch (SupervisorUnavailableException ex)
        {
            _instance = null;
            throw new DriverUnavailableException(ex.Message, ex);
        }
        return ToHandle(info, instance);
    }

    public async Task<TaskExit> WaitAsync(TaskHandle handle, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(handle);
        var state = StateOf(handle);
        while (true)
        {
            SupervisedTaskInfo info;
            try
            {
                info = await client.WaitAsync(handle.TaskId, state.Generation, WaitSlice, cancellationToken).ConfigureAwait(false);
            }
            catch (SupervisorUnavailableException ex)
            {
                _instance = null;
                throw new DriverUnavailableException(ex.Message, ex);
            }
            catch (SupervisorException ex) when (ex.NotFound)
            {
                return new TaskExit(137, null, time.GetUtcNow(), 0) { Lost = true, Reason = "the supervisor no longer knows the task" };
            }
            if (info.Generation != state.Generation)
            {
                return new TaskExit(137, null, time.GetUtcNow(), info.LogOffset) { Lost = true, Reason = $"run {state.Generation} was replaced by run {info.Generation}" };
            }
            if (ToExit(info) is { } exit)
            {
                return exit;
            }
        }
    }

    public async Task<TaskExit?> StopAsync(TaskHandle handle, string? signal, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(handle);
        try
        {
            var before = await client.InspectAsync(handle.TaskId, cancellationToken).ConfigureAwait(false);
            if (before is null || before.State != SupervisedTaskState.Running || before.Generation != StateOf(handle).Generation)
            {
                return null;
            }
            return ToExit(await client.StopAsync(handle.TaskId, signal, timeout, cancellationToken).ConfigureAwait(false));
        }
        catch (SupervisorUnavailableException ex)
        {
            throw new DriverUnavailableException(ex.Message, ex);
        }
    }

    public async Task FenceAsync(string taskId, TimeSpan? within, CancellationToken cancellationToken)
    {
        try
        {
            await client.FenceAsync(taskId, within, cancellationToken).ConfigureAwait(false);
        }
        catch (SupervisorUnavailableException ex)
        {
            throw new DriverUnavailableException(ex.Message, ex);
        }
    }

    public async Task DestroyAsync(string taskId, CancellationToken cancellationToken)
    {
        try
        {
            await client.RemoveAsync(taskId, cancellationToken).ConfigureAwait(false);
        }
        catch (SupervisorUnavailableException)
        {
            // No supervisor: its tasks died with it, so there is nothing left to destroy.
        }
    }

    public async Task<TaskInspection> RecoverAsync(TaskHandle handle, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(handle);
        var state = StateOf(handle);
        SupervisedTaskInfo? info;
        try
        {
            info = await client.InspectAsync(handle.TaskId, cancellationToken).ConfigureAwait(false);
        }
        catch (SupervisorUnavailableException ex)
        {
            throw new DriverUnavailableException(ex.Message, ex);
        }
        if (info is null)
        {
            throw new TaskNotRecoverableException($"the supervisor does not know task {handle.TaskId}");
        }
        if (info.Generation != state.Generation || info.Pid != handle.Pid || info.StartTicks != state.StartTicks)
        {
            throw new TaskNotRecoverableException($"task {handle.TaskId}: run {state.Generation} (pid {handle.Pid}) is gone; the supervisor has run {info.Generation} (pid {info.Pid}, {info.State})");
        }
        if (info.State == SupervisedTaskState.Lost)
        {
            throw new TaskNotRecoverableException($"task {handle.TaskId} was lost: {info.Error}");
        }
        // A task that exits this very moment still shows Running here; the following Wait reports its exit.
        return ToInspection(info);
    }

    public async Task<TaskInspection?> InspectAsync(string taskId, CancellationToken cancellationToken)
    {
        try
        {
            var info = await client.InspectAsync(taskId, cancellationToken).ConfigureAwait(false);
            return info is null ? null : ToInspection(info);
        }
        catch (SupervisorUnavailableException ex)
        {
            throw new DriverUnavailableException(ex.Message, ex);
        }
    }

    public Task<IReadOnlyDictionary<string, TaskStats>> StatsAsync(IReadOnlyCollection<TaskHandle> handles, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(handles);
        // Each task leads its own session, so the session of the leader's PID is the task's whole tree.
        var byPid = handles.Where(h => h.Pid > 0).GroupBy(h => h.Pid).ToDictionary(g => g.Key, g => g.First().TaskId);
        var sampled = _sampler.Sample(byPid.Keys);
        IReadOnlyDictionary<string, TaskStats> result = sampled.ToDictionary(kv => byPid[kv.Key], kv => kv.Value, StringComparer.Ordinal);
        return Task.FromResult(result);
    }

    private TaskHandle ToHandle(SupervisedTaskInfo info, string instance) =>
        new(info.Id, Name, info.Pid, info.StartedAt ?? time.GetUtcNow(),
            JsonSerializer.Serialize(new ProcessDriverState(info.Generation, info.StartTicks, instance), DriverJsonContext.Default.ProcessDriverState))
        {
            LimitsNote = info.LimitsNote,
        };

    private static ProcessDriverState StateOf(TaskHandle handle) =>
        JsonSerializer.Deserialize(handle.DriverState, DriverJsonContext.Default.ProcessDriverState)
        ?? throw new TaskNotRecoverableException($"task {handle.TaskId}: empty driver state");

    private static TaskExit? ToExit(SupervisedTaskInfo info) => info.State switch
    {
        SupervisedTaskState.Exited => new TaskExit(info.ExitCode ?? 0, info.Signal, info.ExitedAt ?? DateTimeOffset.UtcNow, info.LogOffset) { RunLogOffset = info.RunLogOffset },
        SupervisedTaskState.Lost => new TaskExit(137, Signals.SigKill, info.ExitedAt ?? DateTimeOffset.UtcNow, info.LogOffset) { Lost = true, Reason = info.Error, RunLogOffset = info.RunLogOffset },
        SupervisedTaskState.Failed => new TaskExit(127, null, info.ExitedAt ?? DateTimeOffset.UtcNow, info.LogOffset) { Reason = info.Error, RunLogOffset = info.RunLogOffset },
        _ => null,
    };

    private static TaskInspection ToInspection(SupervisedTaskInfo info) =>
        new(info.Id, info.State == SupervisedTaskState.Running, info.Pid, info.StartedAt, ToExit(info), info.LimitsNote, info.RunLogOffset, info.LogOffset);
}
