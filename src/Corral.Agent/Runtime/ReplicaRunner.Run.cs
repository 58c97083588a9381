using System.Globalization;
using Corral.Agent.Drivers;
using Corral.Agent.Health;
using Corral.Agent.Logs;
using Corral.Agent.Ports;
using Corral.Agent.Supervisor;
using Corral.Core.Tasks;

namespace Corral.Agent.Runtime;

public sealed partial class ReplicaRunner
{
    private static readonly TimeSpan CatchUpTimeout = TimeSpan.FromSeconds(5);

    private async Task RunAsync(ReplicaRecord? saved, CancellationToken cancellationToken)
    {
        try
        {
            await RunCoreAsync(saved, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Detached or removed.
        }
#pragma warning disable CA1031 // The runner must end in a visible state whatever went wrong.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            lock (_lock)
            {
                _running = false;
            }
            AgentRuntimeLog.ReplicaRunnerFailed(_services.Logger, TaskId, ex);
            SetStatus(ReplicaState.Failed, $"agent error while running the task: {ex.GetType().Name}: {ex.Message}");
        }
    }

    private async Task RunCoreAsync(ReplicaRecord? saved, CancellationToken cancellationToken)
    {
        var attached = false;
        TaskExit? pendingExit = null;
        var reason = "starting";
        if (saved is not null && saved.Status is { State: ReplicaState.Exited or ReplicaState.Failed } final)
        {
            // It ended for good before the agent restarted: keep the verdict.
            lock (_lock)
            {
                _status = final;
                _handle = saved.Handle;
            }
            Changed?.Invoke(this);
            return;
        }
        if (saved?.Handle is { } savedHandle)
        {
            try
            {
                var found = await _services.Driver.RecoverAsync(savedHandle, cancellationToken).ConfigureAwait(false);
                lock (_lock)
                {
                    _handle = savedHandle;
                    _limitsNote = found.LimitsNote;
                }
                if (_ports.Count > 0)
                {
                    _services.Ports.Reserve(TaskId, _ports);
                }
                if (found.Running)
                {
                    attached = true;
                }
                else
                {
                    pendingExit = found.Exit;
                }
            }
            catch (TaskNotRecoverableException ex)
            {
                reason = "starting again: " + ex.Message;
            }
            catch (DriverUnavailableException ex)
            {
                reason = "starting again: " + ex.Message;
                await _services.Guard.EnsureAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        if (!attached && pendingExit is null)
        {
            // Nothing to re-attach to: clear any run of this id that a crashed agent started but never
            // recorded, so the fresh start below is the only one.
            try
            {
                await _services.Driver.DestroyAsync(TaskId, cancellationToken).ConfigureAwait(false);
            }
            catch (DriverUnavailableException)
            {
            }
        }

        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!attached && pendingExit is null)
            {
                SetStatus(ReplicaState.Starting, reason);
                TaskConfig config;
                try
                {
                    config = Prepare();
                }
                catch (Exception ex) when (ex is ArgumentException or IOException or UnauthorizedAccessException or PortsExhaustedException)
                {
                    AgentRuntimeLog.ReplicaFailed(_services.Logger, TaskId, ex.Message);
                    SetStatus(ReplicaState.Failed, ex.Message);
                    return;
                }
                TaskHandle handle;
                try
                {
                    handle = await _services.Driver.StartAsync(config, cancellationToken).ConfigureAwait(false);
                }
                catch (TaskStartException ex)
                {
                    AgentRuntimeLog.ReplicaFailed(_services.Logger, TaskId, ex.Message);
                    SetStatus(ReplicaState.Failed, ex.Message);
                    return;
                }
                catch (DriverUnavailableException ex)
                {
                    reason = "starting again: " + ex.Message;
                    await _services.Guard.EnsureAsync(cancellationToken).ConfigureAwait(false);
                    continue;
                }
                lock (_lock)
                {
                    _handle = handle;
                    _limitsNote = handle.LimitsNote;
                }
            }

            TaskExit exit;
            if (pendingExit is null)
            {
                var handle = _handle!;
                lock (_lock)
                {
                    _running = true;
                }
                var how = attached ? "re-attached to" : "started";
                var note = _limitsNote is null ? string.Empty : "; " + _limitsNote;
                if (attached)
                {
                    AgentRuntimeLog.ReplicaReattached(_services.Logger, TaskId, handle.Pid);
                }
                else
                {
                    AgentRuntimeLog.ReplicaStarted(_services.Logger, TaskId, handle.Pid, note);
                }
                SetStatus(Spec.Health is null ? ReplicaState.Healthy : ReplicaState.Running, $"{how} pid {handle.Pid.ToString(CultureInfo.InvariantCulture)}{note}");
                attached = false;
                var health = StartHealth(handle);
                try
                {
                    exit = await _services.Driver.WaitAsync(handle, cancellationToken).ConfigureAwait(false);
                }
                catch (DriverUnavailableException ex)
                {
                    await StopHealthAsync(health).ConfigureAwait(false);
                    lock (_lock)
                    {
                        _running = false;
                    }
                    reason = "the supervisor died and took the task with it; starting it again (" + ex.Message + ")";
                    AgentRuntimeLog.ReplicaLost(_services.Logger, TaskId, "the supervisor died and took it along: " + ex.Message);
                    SetStatus(ReplicaState.Starting, reason);
                    await _services.Guard.EnsureAsync(cancellationToken).ConfigureAwait(false);
                    continue;
                }
                finally
                {
                    if (cancellationToken.IsCancellationRequested)
                    {
                        await StopHealthAsync(health).ConfigureAwait(false);
                    }
                }
                await StopHealthAsync(health).ConfigureAwait(false);
            }
            else
            {
                exit = pendingExit;
                pendingExit = null;
            }
            lock (_lock)
            {
                _running = false;
            }

            // The restart decision reads the stderr tail from the log files directly; log delivery catches up on its own.
            if (exit.Lost)
            {
                AgentRuntimeLog.ReplicaLost(_services.Logger, TaskId, exit.Reason ?? "no reason given");
                reason = $"starting again: the task was lost ({exit.Reason})";
                continue;
            }
            AgentRuntimeLog.ReplicaExited(_services.Logger, TaskId, _handle?.Pid ?? 0, exit.ExitCode, exit.Signal is { } signal ? $" (signal {Signals.Name(signal)})" : string.Empty);
            var decision = _tracker.OnExit(exit.ExitCode, StderrTail(exit.RunLogOffset, exit.LogOffset));
            if (!decision.Restart)
            {
                if (decision.FinalState == ReplicaState.Failed)
                {
                    AgentRuntimeLog.ReplicaFailed(_services.Logger, TaskId, decision.Reason);
                }
                else
                {
                    AgentRuntimeLog.ReplicaEnded(_services.Logger, TaskId, decision.Reason);
                }
                SetStatus(decision.FinalState, decision.Reason, exit.ExitCode);
                return;
            }
            AgentRuntimeLog.ReplicaRestarting(_services.Logger, TaskId, decision.Delay.TotalSeconds, Volatile.Read(ref _restarts) + 1, decision.Reason);
            Interlocked.Increment(ref _restarts);
            SetStatus(ReplicaState.Starting, decision.Reason, exit.ExitCode);
            reason = decision.Reason;
            if (decision.Delay > TimeSpan.Zero)
            {
                await Task.Delay(decision.Delay, _services.Time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Writes the task's files, allocates its ports and resolves everything the driver needs.</summary>
    private TaskConfig Prepare()
    {
        Runtime.TaskDirectory.Prepare(TaskDirectory, Spec.Files);
        IReadOnlyDictionary<string, int> ports = Spec.Ports.Count > 0
            ? _services.Ports.Allocate(TaskId, Spec.Ports)
            : new Dictionary<string, int>();
        lock (_lock)
        {
            _ports = ports;
        }
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PATH"] = Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        };
        foreach (var name in new[] { "HOME", "LANG" })
        {
            if (Environment.GetEnvironmentVariable(name) is { } value)
            {
                env[name] = value;
            }
        }
        if (Spec.User is { } user && UserAccount.Find(user) is { } account)
        {
            env["HOME"] = account.Home;
        }
        env["CORRAL_TASK_ID"] = TaskId;
        env["CORRAL_TASK_DIR"] = TaskDirectory;
        foreach (var (key, value) in Spec.Env)
        {
            env[key] = value;
        }
        if (Spec.Ports.Count > 0)
        {
            foreach (var (key, value) in PortAllocator.ToEnvironment(Spec.Ports, ports))
            {
                env[key] = value;
            }
        }
        var workingDirectory = Spec.WorkingDirectory is null
            ? TaskDirectory
            : Path.IsPathRooted(Spec.WorkingDirectory) ? Spec.WorkingDirectory : Path.Combine(TaskDirectory, Spec.WorkingDirectory);
        if (Spec.Health is { } check)
        {
            // Fails here, naming the problem, rather than after the task started.
            HealthProbes.Create(check, OrderedPorts(ports), workingDirectory);
        }
        return new TaskConfig
        {
            Id = TaskId,
            Command = ArgumentExpander.Expand(Spec.Command, env),
            Args = [.. Spec.Args.Select(a => ArgumentExpander.Expand(a, env))],
            Env = env,
            WorkingDirectory = workingDirectory,
            User = Spec.User,
            StopSignal = Spec.StopSignal,
            StopTimeout = Spec.StopTimeout,
            Resources = Spec.Resources,
            LogDirectory = LogDirectory,
            LogMaxSegmentBytes = _services.Options.LogMaxSegmentBytes,
            LogMaxSegments = _services.Options.LogMaxSegments,
        };
    }

    /// <summary>The ports in the order the spec names them (the health check's default port is the first).</summary>
    private Dictionary<string, int> OrderedPorts(IReadOnlyDictionary<string, int> ports)
    {
        var ordered = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var name in Spec.Ports)
        {
            if (ports.TryGetValue(name, out var port))
            {
                ordered[name] = port;
            }
        }
        return ordered;
    }

    private HealthMonitor? StartHealth(TaskHandle handle)
    {
        if (Spec.Health is not { } check)
        {
            return null;
        }
        var run = Interlocked.Increment(ref _healthRun);
        var workingDirectory = Spec.WorkingDirectory is null ? TaskDirectory : Path.Combine(TaskDirectory, Spec.WorkingDirectory);
        IHealthProbe probe;
        try
        {
            probe = HealthProbes.Create(check, OrderedPorts(_ports), workingDirectory);
        }
        catch (ArgumentException ex)
        {
            AgentRuntimeLog.ReplicaUnhealthy(_services.Logger, TaskId, "health check cannot run: " + ex.Message);
            SetStatus(ReplicaState.Unhealthy, "health check cannot run: " + ex.Message);
            return null;
        }
        var monitor = new HealthMonitor(check, probe, _services.Time);
        monitor.Changed += verdict =>
        {
            if (Volatile.Read(ref _healthRun) != run || verdict.Healthy is null)
            {
                return;
            }
            if (verdict.Healthy.Value)
            {
                AgentRuntimeLog.ReplicaHealthy(_services.Logger, TaskId, verdict.Reason);
            }
            else
            {
                AgentRuntimeLog.ReplicaUnhealthy(_services.Logger, TaskId, verdict.Reason);
            }
            SetStatus(verdict.Healthy.Value ? ReplicaState.Healthy : ReplicaState.Unhealthy, verdict.Reason);
        };
        monitor.Start(handle.StartedAt);
        return monitor;
    }

    private async Task StopHealthAsync(HealthMonitor? monitor)
    {
        if (monitor is null)
        {
            return;
        }
        Interlocked.Increment(ref _healthRun);
        await monitor.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Follows the task's log into the sink for the life of the runner, across restarts of the task.</summary>
    private async Task FollowAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await foreach (var batch in TaskLogReader.FollowAsync(LogDirectory, Volatile.Read(ref _offset), _services.Options.LogPollInterval, cancellationToken).ConfigureAwait(false))
                {
                    _services.Sink.Deliver(TaskId, batch.Lines);
                    Volatile.Write(ref _offset, batch.NextOffset);
                    Save(force: false);
                }
            }
            catch (IOException)
            {
                // A segment vanished or could not be read this time: resume from the delivered offset.
                await Task.Delay(_services.Options.LogPollInterval, _services.Time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Waits (bounded) until the follower has delivered everything up to <paramref name="offset"/>.</summary>
    private async Task CatchUpAsync(long offset)
    {
        var deadline = _services.Time.GetUtcNow() + CatchUpTimeout;
        while (Volatile.Read(ref _offset) < offset && _services.Time.GetUtcNow() < deadline && !_follower.IsCompleted)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), _services.Time).ConfigureAwait(false);
        }
    }

    /// <summary>The last stderr lines of the run that just ended, for the failure reason.</summary>
    private string StderrTail(long runStart, long exitOffset)
    {
        const int window = 16 * 1024;
        var from = Math.Max(runStart, exitOffset - window);
        try
        {
            var lines = TaskLogReader.Read(LogDirectory, from, window * 2).Lines
                .Where(l => l.NextOffset <= exitOffset)
                .Skip(from > runStart ? 1 : 0)
                .Where(l => l.Stream == "stderr")
                .TakeLast(5)
                .Select(l => l.Text);
            return string.Join(" | ", lines);
        }
        catch (IOException)
        {
            return string.Empty;
        }
    }
}
