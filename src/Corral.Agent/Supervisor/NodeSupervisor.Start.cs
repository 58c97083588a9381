using Corral.Core.Tasks;
using System.Buffers;
using System.Globalization;
using Corral.Agent.Logs;

namespace Corral.Agent.Supervisor;

public sealed partial class NodeSupervisor
{
    /// <summary>Letters, digits, '.', '_' and '-', starting with a letter or digit, at most 128 (no Regex: it costs the supervisor a megabyte).</summary>
    private static bool IsValidTaskId(string id) =>
        id.Length is > 0 and <= 128
        && char.IsAsciiLetterOrDigit(id[0])
        && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    /// <summary>
    /// Starts a task (again, when it ran before under the same id: its log continues at the same offset).
    /// Bad input is refused before anything runs, with every problem named; the task is then recorded
    /// as <see cref="SupervisedTaskState.Failed"/>.
    /// </summary>
    /// <returns>The running task's info, or the failed info and the error.</returns>
    public async Task<(SupervisedTaskInfo? Info, string? Error)> StartAsync(SupervisedTaskSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (string.IsNullOrEmpty(spec.Id) || !IsValidTaskId(spec.Id))
        {
            return (null, $"invalid task id '{spec.Id}': use letters, digits, '.', '_' and '-' (at most 128)");
        }
        if (FencedReason(spec.Id) is { } fenced)
        {
            SupervisorLog.FencedStartRefused(_logger, spec.Id);
            return (Inspect(spec.Id), fenced);
        }
        TaskEntry entry;
        lock (_lock)
        {
            if (!_tasks.TryGetValue(spec.Id, out entry!))
            {
                entry = new TaskEntry(new SupervisedTaskInfo { Id = spec.Id, State = SupervisedTaskState.Exited, Spec = spec });
                _tasks[spec.Id] = entry;
            }
        }
        await entry.Operation.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            long generation;
            lock (entry.Gate)
            {
                if (entry.Info.State == SupervisedTaskState.Running)
                {
                    return (entry.Info, $"task {spec.Id} is already running (pid {entry.Info.Pid})");
                }
                generation = entry.Info.Generation + 1;
            }
            var (plan, errors) = Validate(spec);
            if (errors.Count > 0)
            {
                return (RecordFailure(entry, spec, generation, string.Join("; ", errors)), string.Join("; ", errors));
            }
            try
            {
                return (await LaunchAsync(entry, spec, generation, plan!).ConfigureAwait(false), null);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                return (RecordFailure(entry, spec, generation, ex.Message), ex.Message);
            }
        }
        finally
        {
            entry.Operation.Release();
        }
    }

    private const string CgroupJoinScript =
        "n=$1; shift; while [ \"$n\" -gt 0 ]; do echo 0 > \"$1/cgroup.procs\" 2>/dev/null; shift; n=$((n-1)); done; exec \"$@\"";

    private sealed record LaunchPlan(string Executable, IReadOnlyList<string> Argv, IReadOnlyList<string> Environment);

    private (LaunchPlan? Plan, List<string> Errors) Validate(SupervisedTaskSpec spec)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(spec.WorkingDirectory) || !Path.IsPathRooted(spec.WorkingDirectory))
        {
            errors.Add($"working directory must be an absolute path: '{spec.WorkingDirectory}'");
        }
        else if (!Directory.Exists(spec.WorkingDirectory))
        {
            errors.Add($"working directory does not exist: {spec.WorkingDirectory}");
        }
        if (!Signals.TryParse(spec.StopSignal, out _))
        {
            errors.Add($"unknown signal name: {spec.StopSignal}");
        }
        if (spec.StopTimeoutMs < 0)
        {
            errors.Add($"stop timeout must not be negative: {spec.StopTimeoutMs} ms");
        }
        if (spec.MemoryBytes is < 0)
        {
            errors.Add($"memory limit must not be negative: {spec.MemoryBytes} bytes");
        }
        if (spec.Cpu is { } cpu && (cpu <= 0 || double.IsNaN(cpu)))
        {
            errors.Add($"cpu limit must be positive: {cpu.ToString(CultureInfo.InvariantCulture)}");
        }
        if (spec.LogMaxSegmentBytes < 1024 || spec.LogMaxSegments < 1)
        {
            errors.Add($"log rotation needs at least 1 KiB per segment and 1 segment (got {spec.LogMaxSegmentBytes} bytes, {spec.LogMaxSegments} segments)");
        }
        if (string.IsNullOrWhiteSpace(spec.LogDirectory) || !Path.IsPathRooted(spec.LogDirectory))
        {
            errors.Add($"log directory must be an absolute path: '{spec.LogDirectory}'");
        }
        UserAccount? user = null;
        if (spec.User is { } userName)
        {
            user = UserAccount.Find(userName);
            if (user is null)
            {
                errors.Add($"unknown user: {userName}");
            }
            else if (UserAccount.EffectiveUid != 0 && user.Uid != UserAccount.EffectiveUid)
            {
                errors.Add($"cannot run as user {userName}: the supervisor is not root (uid {UserAccount.EffectiveUid})");
            }
        }
        string? executable = null;
        if (string.IsNullOrWhiteSpace(spec.Command))
        {
            errors.Add("command is empty");
        }
        else
        {
            spec.Env.TryGetValue("PATH", out var path);
            var cwd = Directory.Exists(spec.WorkingDirectory) ? spec.WorkingDirectory : "/";
            executable = FindOnPath(spec.Command, path, cwd);
            if (executable is null)
            {
                errors.Add($"command not found: {spec.Command}");
            }
            else if (Directory.Exists(executable))
            {
                errors.Add($"command is a directory, not executable: {executable}");
            }
            else if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(executable) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) == 0)
            {
                errors.Add($"command not executable: {executable}");
            }
        }
        if (_setpriv is null)
        {
            errors.Add("setpriv not found on the supervisor's PATH (install util-linux)");
        }
        if (errors.Count > 0)
        {
            return (null, errors);
        }

        var argv = new List<string> { _setpriv!, "--pdeathsig", "KILL" };
        if (user is not null && user.Uid != UserAccount.EffectiveUid)
        {
            argv.AddRange(["--reuid", user.Uid.ToString(CultureInfo.InvariantCulture), "--regid", user.Gid.ToString(CultureInfo.InvariantCulture), "--init-groups"]);
        }
        argv.Add("--");
        argv.Add(executable!);
        argv.AddRange(spec.Args);
        var env = spec.Env.Select(kv => kv.Key + "=" + kv.Value).ToList();
        return (new LaunchPlan(_setpriv!, argv, env), errors);
    }

    private SupervisedTaskInfo RecordFailure(TaskEntry entry, SupervisedTaskSpec spec, long generation, string error)
    {
        var now = _time.GetUtcNow();
        SupervisedTaskInfo failed;
        lock (entry.Gate)
        {
            entry.Info = new SupervisedTaskInfo
            {
                Id = spec.Id,
                State = SupervisedTaskState.Failed,
                Generation = generation,
                Error = error,
                ExitedAt = now,
                LogOffset = entry.Log?.Offset ?? entry.Info.LogOffset,
                RunLogOffset = entry.Log?.Offset ?? entry.Info.LogOffset,
                Spec = spec,
            };
            entry.Run = null;
            Persist(entry.Info);
            failed = entry.Info;
        }
        SupervisorLog.TaskStartFailed(_logger, spec.Id, generation, error);
        return failed;
    }

    private async Task<SupervisedTaskInfo> LaunchAsync(TaskEntry entry, SupervisedTaskSpec spec, long generation, LaunchPlan plan)
    {
        TaskLogWriter log;
        lock (entry.Gate)
        {
            entry.Log ??= new TaskLogWriter(spec.LogDirectory, spec.LogMaxSegmentBytes, spec.LogMaxSegments, _time);
            log = entry.Log;
        }
        var placement = _cgroups.Create(spec.Id, generation, spec.MemoryBytes, spec.Cpu);
        var run = new TaskRun(generation) { Cgroups = placement.Directories };
        var limitsNote = placement.LimitsNote;
        string? moveError = null;
        var executable = plan.Executable;
        var argv = plan.Argv;
        if (placement.Directories.Count > 0)
        {
            // Join the cgroups before anything of the task runs (a child forked before a move from the
            // outside would stay behind), then exec the real chain in the same process.
            executable = "/bin/sh";
            argv = [executable, "-c", CgroupJoinScript, "corral-cgroup", placement.Directories.Count.ToString(CultureInfo.InvariantCulture), .. placement.Directories, .. plan.Argv];
        }
        var child = await _spawner.SpawnAsync(
            new SpawnRequest(executable, argv, plan.Environment, spec.WorkingDirectory),
            spawned =>
            {
                run.Pid = spawned.Pid;
                _reaper.Register(spawned.Pid, status => _ = HandleExitAsync(entry, run, status));
                _reaper.NotifySpawned();
                // Also from here, so a refusal is seen and reported (moving a member again is a no-op).
                moveError = CgroupManager.AddProcess(placement.Directories, spawned.Pid);
            }).ConfigureAwait(false);
        if (moveError is not null && (spec.MemoryBytes is not null || spec.Cpu is not null))
        {
            limitsNote = "limits not enforced: " + moveError;
        }
        var startTicks = ProcStat.Read(child.Pid)?.StartTicks ?? 0;
        run.Streams.Add(child.Stdout);
        run.Streams.Add(child.Stderr);
        var runOffset = log.Offset;
        run.Pumps = Task.WhenAll(
            Task.Run(() => PumpAsync(child.Stdout, "stdout", log)),
            Task.Run(() => PumpAsync(child.Stderr, "stderr", log)));
        SupervisedTaskInfo info;
        lock (entry.Gate)
        {
            info = new SupervisedTaskInfo
            {
                Id = spec.Id,
                State = SupervisedTaskState.Running,
                Generation = generation,
                Pid = child.Pid,
                Pgid = child.Pid,
                StartTicks = startTicks,
                StartedAt = _time.GetUtcNow(),
                LimitsNote = limitsNote,
                Cgroups = placement.Directories,
                LogOffset = runOffset,
                RunLogOffset = runOffset,
                Spec = spec,
            };
            entry.Info = info;
            entry.Run = run;
            Persist(info);
        }
        SupervisorLog.TaskStarted(_logger, spec.Id, child.Pid, generation, spec.User ?? _ownUser, limitsNote is null ? string.Empty : "; " + limitsNote);
        run.Ready.SetResult();
        return info;
    }

    /// <summary>
    /// Copies one output stream of a task into its log, line by line, until the stream ends. While the task is
    /// quiet it holds no buffer: it waits with a zero-byte read and rents one only to take what arrived, so an
    /// idle task costs the supervisor next to nothing. A line longer than the buffer is split.
    /// </summary>
    private static async Task PumpAsync(Stream stream, string tag, TaskLogWriter log)
    {
        const int bufferSize = 16 * 1024;
        byte[]? carry = null;
        try
        {
            while (true)
            {
                await stream.ReadAsync(Memory<byte>.Empty).ConfigureAwait(false);
                var buffer = ArrayPool<byte>.Shared.Rent(bufferSize);
                try
                {
                    var filled = 0;
                    if (carry is not null)
                    {
                        carry.CopyTo(buffer, 0);
                        filled = carry.Length;
                        carry = null;
                    }
                    var read = await stream.ReadAsync(buffer.AsMemory(filled, bufferSize - filled)).ConfigureAwait(false);
                    if (read == 0)
                    {
                        if (filled > 0)
                        {
                            log.WriteLine(tag, buffer.AsSpan(0, filled));
                        }
                        break;
                    }
                    filled += read;
                    var start = 0;
                    while (true)
                    {
                        var newline = buffer.AsSpan(start, filled - start).IndexOf((byte)'\n');
                        if (newline < 0)
                        {
                            break;
                        }
                        log.WriteLine(tag, buffer.AsSpan(start, newline));
                        start += newline + 1;
                    }
                    if (start == 0 && filled == bufferSize)
                    {
                        log.WriteLine(tag, buffer.AsSpan(0, filled));
                        start = filled;
                    }
                    if (start < filled)
                    {
                        carry = buffer.AsSpan(start, filled - start).ToArray();
                    }
                    log.Flush();
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException)
        {
            // The stream was closed under us after the task exited: keep what was read.
            if (carry is not null)
            {
                log.WriteLine(tag, carry);
            }
        }
        log.Flush();
    }
}
