using Corral.Core.Tasks;

namespace Corral.Agent.Supervisor;

public sealed partial class NodeSupervisor
{
    private static readonly TimeSpan PumpDrainTimeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan MaxWait = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Stops the task: its stop signal (or <paramref name="signal"/>) to its whole process group, then
    /// SIGKILL to the group and its cgroup once the timeout passes. Returns once the task has exited and
    /// its log is flushed. A task that is not running is returned as it is.
    /// </summary>
    public async Task<(SupervisedTaskInfo? Info, string? Error)> StopAsync(string id, string? signal, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        var entry = Find(id);
        if (entry is null)
        {
            return (null, $"unknown task: {id}");
        }
        int signalNumber;
        if (!Signals.TryParse(signal ?? entry.Info.Spec.StopSignal, out signalNumber))
        {
            return (entry.Info, $"unknown signal name: {signal ?? entry.Info.Spec.StopSignal}");
        }
        var wait = timeout ?? TimeSpan.FromMilliseconds(entry.Info.Spec.StopTimeoutMs);
        if (wait < TimeSpan.Zero)
        {
            return (entry.Info, $"stop timeout must not be negative: {wait.TotalMilliseconds} ms");
        }
        await entry.Operation.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return (await StopRunAsync(entry, signalNumber, wait, cancellationToken).ConfigureAwait(false), null);
        }
        finally
        {
            entry.Operation.Release();
        }
    }

    /// <summary>
    /// Waits until the run <paramref name="generation"/> (the current one when null) has exited, or
    /// <paramref name="timeout"/> passes; returns the task's info either way.
    /// </summary>
    public async Task<SupervisedTaskInfo?> WaitAsync(string id, long? generation, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var entry = Find(id);
        if (entry is null)
        {
            return null;
        }
        TaskRun? run;
        lock (entry.Gate)
        {
            run = entry.Run;
            if (run is null || run.Exited.Task.IsCompleted || (generation is { } g && g != run.Generation))
            {
                return WithLiveOffset(entry);
            }
        }
        var capped = timeout > MaxWait ? MaxWait : timeout < TimeSpan.Zero ? TimeSpan.Zero : timeout;
        try
        {
            await run.Exited.Task.WaitAsync(capped, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Still running: the caller sees state Running and asks again.
        }
        lock (entry.Gate)
        {
            return WithLiveOffset(entry);
        }
    }

    /// <summary>Stops the task if it runs, then forgets it and deletes its state directory. Its log files stay.</summary>
    public async Task<(SupervisedTaskInfo? Info, string? Error)> RemoveAsync(string id, CancellationToken cancellationToken)
    {
        var entry = Find(id);
        if (entry is null)
        {
            return (null, $"unknown task: {id}");
        }
        await entry.Operation.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Signals.TryParse(entry.Info.Spec.StopSignal, out var signal);
            var info = await StopRunAsync(entry, signal == 0 ? Signals.SigTerm : signal, TimeSpan.FromMilliseconds(Math.Max(0, entry.Info.Spec.StopTimeoutMs)), cancellationToken).ConfigureAwait(false);
            await CgroupManager.RemoveAsync(info.Cgroups).ConfigureAwait(false);
            lock (_lock)
            {
                _tasks.Remove(id);
            }
            ClearFence(id);
            lock (entry.Gate)
            {
                entry.Log?.Dispose();
                entry.Log = null;
            }
            try
            {
                Directory.Delete(StateDirectory(id), recursive: true);
            }
            catch (DirectoryNotFoundException)
            {
            }
            return (info, null);
        }
        finally
        {
            entry.Operation.Release();
        }
    }

    /// <summary>Stops every running task with its own stop signal and timeout, concurrently.</summary>
    public async Task StopAllAsync(CancellationToken cancellationToken)
    {
        var ids = List().Where(t => t.State == SupervisedTaskState.Running).Select(t => t.Id).ToList();
        await Task.WhenAll(ids.Select(id => StopAsync(id, null, null, cancellationToken))).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends <paramref name="signal"/> to the run's process group, SIGKILL to the group and its cgroup after
    /// <paramref name="timeout"/>, and returns the info recorded at exit; logs each step, as fence steps when the stop
    /// is the fence's (<paramref name="fenced"/>). The caller holds the entry's operation.
    /// </summary>
    private async Task<SupervisedTaskInfo> StopRunAsync(TaskEntry entry, int signal, TimeSpan timeout, CancellationToken cancellationToken, bool fenced = false)
    {
        TaskRun? run;
        string id;
        lock (entry.Gate)
        {
            run = entry.Run;
            id = entry.Info.Id;
            if (run is null || entry.Info.State != SupervisedTaskState.Running)
            {
                if (fenced)
                {
                    SupervisorLog.FenceFiredIdle(_logger, id, entry.Info.State);
                }
                return WithLiveOffset(entry);
            }
        }
        var signalName = Signals.Name(signal);
        // Logged before the signal: the task's exit, logged by the reaper, may follow it within microseconds.
        if (fenced)
        {
            SupervisorLog.FenceStopSent(_logger, id, run.Pid, signalName, timeout.TotalSeconds);
        }
        else
        {
            SupervisorLog.StopRequested(_logger, id, run.Pid, signalName, timeout.TotalSeconds);
        }
        var sent = _time.GetTimestamp();
        Interop.kill(-run.Pid, signal);
        SupervisedTaskInfo info;
        try
        {
            info = await run.Exited.Task.WaitAsync(timeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            SupervisorLog.StopTimedOut(_logger, id, run.Pid, timeout.TotalSeconds, signalName);
            Interop.kill(-run.Pid, Signals.SigKill);
            await CgroupManager.KillAsync(run.Cgroups).ConfigureAwait(false);
            info = await run.Exited.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        var elapsed = _time.GetElapsedTime(sent);
        if (fenced)
        {
            SupervisorLog.FenceProcessGone(_logger, id, run.Pid, elapsed.TotalMilliseconds);
        }
        else
        {
            SupervisorLog.TaskGone(_logger, id, run.Pid, elapsed.TotalMilliseconds);
        }
        return info;
    }

    /// <summary>
    /// Runs when the reaper has the leader's status: kills what is left of the task (group and cgroup),
    /// lets the log pumps drain, records the exit, and only then releases waiters.
    /// </summary>
    private async Task HandleExitAsync(TaskEntry entry, TaskRun run, int status)
    {
        await run.Ready.Task.ConfigureAwait(false);
        Interop.kill(-run.Pid, Signals.SigKill);
        await CgroupManager.KillAsync(run.Cgroups).ConfigureAwait(false);
        if (await Task.WhenAny(run.Pumps, Task.Delay(PumpDrainTimeout, _time)).ConfigureAwait(false) != run.Pumps)
        {
            foreach (var stream in run.Streams)
            {
                stream.Dispose();
            }
            await Task.WhenAny(run.Pumps, Task.Delay(PumpDrainTimeout, _time)).ConfigureAwait(false);
        }
        foreach (var stream in run.Streams)
        {
            stream.Dispose();
        }
        int exitCode;
        int? signal = null;
        if (Interop.WIfExited(status))
        {
            exitCode = Interop.WExitStatus(status);
        }
        else
        {
            signal = Interop.WTermSig(status);
            exitCode = 128 + signal.Value;
        }
        SupervisedTaskInfo info;
        lock (entry.Gate)
        {
            entry.Log?.Flush();
            info = entry.Info with
            {
                State = SupervisedTaskState.Exited,
                ExitCode = exitCode,
                Signal = signal,
                ExitedAt = _time.GetUtcNow(),
                LogOffset = entry.Log?.Offset ?? entry.Info.LogOffset,
            };
            if (entry.Run == run)
            {
                entry.Info = info;
                Persist(info);
            }
        }
        if (signal is { } number)
        {
            SupervisorLog.TaskSignalled(_logger, info.Id, run.Pid, Signals.Name(number), exitCode);
        }
        else
        {
            SupervisorLog.TaskExited(_logger, info.Id, run.Pid, exitCode);
        }
        run.Exited.TrySetResult(info);
    }
}
