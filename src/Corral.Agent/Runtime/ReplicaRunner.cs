using Corral.Agent.Drivers;
using Corral.Agent.Health;
using Corral.Agent.Restarts;
using Corral.Agent.Stats;
using Corral.Core.Tasks;

namespace Corral.Agent.Runtime;

/// <summary>
/// Runs one replica on this node: prepares its task directory, allocates its ports, starts it through the
/// driver, follows its log into the log sink, keeps its <see cref="ReplicaStatus"/>, runs its health check and
/// applies its restart policy when it exits. Saves a <see cref="ReplicaRecord"/> on every change, from which a
/// runner in a restarted agent re-attaches to the same process instead of starting a new one.
/// </summary>
public sealed partial class ReplicaRunner
{
    private readonly RunnerServices _services;
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource _stopFollowing = new();
    private readonly RestartTracker _tracker;
    private ReplicaStatus _status;
    private TaskHandle? _handle;
    private IReadOnlyDictionary<string, int> _ports = new Dictionary<string, int>();
    private string? _limitsNote;
    private long _offset;
    private int _restarts;
    private int _healthRun;
    private bool _running;
    private Task _loop = Task.CompletedTask;
    private Task _follower = Task.CompletedTask;
    private long _lastSavedAt;
    private TaskStats? _stats;

    public ReplicaRunner(string taskId, TaskSpec spec, RunnerServices services)
    {
        ArgumentNullException.ThrowIfNull(services);
        TaskId = taskId;
        Spec = spec;
        _services = services;
        _tracker = new RestartTracker(spec.Restart, services.Time);
        _status = new ReplicaStatus(ReplicaState.Starting, services.Time.GetUtcNow(), "not started yet");
    }

    public string TaskId { get; }

    public TaskSpec Spec { get; }

    /// <summary>Raised after every status change (on the runner's thread).</summary>
    public event Action<ReplicaRunner>? Changed;

    public ReplicaStatus Status
    {
        get
        {
            lock (_lock)
            {
                return _status;
            }
        }
    }

    /// <summary>The task directory: files, default working directory, and <c>logs/</c>.</summary>
    public string TaskDirectory => Path.Combine(_services.Options.DataDirectory, "tasks", TaskId);

    public string LogDirectory => Path.Combine(TaskDirectory, "logs");

    private string RecordPath => Path.Combine(_services.Options.DataDirectory, "handles", TaskId + ".json");

    /// <summary>The handle of the running task; null while none runs.</summary>
    public TaskHandle? RunningHandle
    {
        get
        {
            lock (_lock)
            {
                return _running ? _handle : null;
            }
        }
    }

    /// <summary>Records the latest stats sample of the running task.</summary>
    public void SetStats(TaskStats? stats)
    {
        lock (_lock)
        {
            _stats = stats;
        }
    }

    /// <summary>A consistent view for the status file.</summary>
    public ReplicaView View()
    {
        lock (_lock)
        {
            return new ReplicaView
            {
                State = _status.State,
                Since = _status.Since,
                Reason = _status.Reason,
                LastExitCode = _status.LastExitCode,
                Pid = _running ? _handle?.Pid ?? 0 : 0,
                StartedAt = _running ? _handle?.StartedAt : null,
                Ports = _ports,
                Restarts = _restarts,
                LogOffset = Volatile.Read(ref _offset),
                LimitsNote = _limitsNote,
                Stats = _running ? _stats : null,
            };
        }
    }

    /// <summary>
    /// Starts the runner. With <paramref name="saved"/> (the record a previous agent left for the same spec) it
    /// re-attaches to the task it names when that still runs, and otherwise handles its exit or starts it afresh.
    /// </summary>
    public void Start(ReplicaRecord? saved)
    {
        var sinkOffset = _services.Sink.DeliveredOffset(TaskId) ?? 0;
        _offset = Math.Max(saved?.LogOffset ?? 0, sinkOffset);
        if (saved?.Ports is { Count: > 0 } ports)
        {
            _ports = ports;
        }
        _follower = Task.Run(() => FollowAsync(_stopFollowing.Token));
        _loop = Task.Run(() => RunAsync(saved, _stop.Token));
    }

    /// <summary>Stops following and supervising but leaves the task running (agent shutdown); the record stays for the next agent.</summary>
    public async Task DetachAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await Quietly(_loop).ConfigureAwait(false);
        await _stopFollowing.CancelAsync().ConfigureAwait(false);
        await Quietly(_follower).ConfigureAwait(false);
        Save(force: true);
    }

    /// <summary>Stops the task (stop signal, then kill after its stop timeout), delivers its last lines, frees its ports and forgets it.</summary>
    public async Task RemoveAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await Quietly(_loop).ConfigureAwait(false);
        TaskHandle? handle;
        lock (_lock)
        {
            handle = _handle;
        }
        try
        {
            if (handle is not null)
            {
                var exit = await _services.Driver.StopAsync(handle, null, null, cancellationToken).ConfigureAwait(false);
                if (exit is not null)
                {
                    await CatchUpAsync(exit.LogOffset).ConfigureAwait(false);
                }
            }
            await _services.Driver.DestroyAsync(TaskId, cancellationToken).ConfigureAwait(false);
        }
        catch (DriverUnavailableException)
        {
            // No supervisor: the task died with it.
        }
        await _stopFollowing.CancelAsync().ConfigureAwait(false);
        await Quietly(_follower).ConfigureAwait(false);
        _services.Ports.Release(TaskId);
        lock (_lock)
        {
            _running = false;
        }
        SetStatus(ReplicaState.Exited, "removed from the node's tasks");
        File.Delete(RecordPath);
    }

    private static async Task Quietly(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// Records a transition. The replica's record is rewritten when it matters to a restarted agent (a new run
    /// was started, or the replica ended for good); transitions in between cost no disk write.
    /// </summary>
    private void SetStatus(ReplicaState state, string reason, int? exitCode = null)
    {
        lock (_lock)
        {
            _status = new ReplicaStatus(state, _services.Time.GetUtcNow(), reason) { LastExitCode = exitCode ?? _status.LastExitCode };
        }
        if (state is ReplicaState.Exited or ReplicaState.Failed or ReplicaState.Running or ReplicaState.Healthy)
        {
            Save(force: true);
        }
        Changed?.Invoke(this);
    }

    /// <summary>Writes the replica's record atomically; from the log follower at most once a second.</summary>
    private void Save(bool force)
    {
        var now = Environment.TickCount64;
        if (!force && now - Interlocked.Read(ref _lastSavedAt) < 1000)
        {
            return;
        }
        lock (_lock)
        {
            Interlocked.Exchange(ref _lastSavedAt, now);
            Directory.CreateDirectory(Path.GetDirectoryName(RecordPath)!);
            AgentJson.WriteAtomically(RecordPath, new ReplicaRecord
            {
                TaskId = TaskId,
                Spec = Spec,
                Handle = _handle,
                LogOffset = Volatile.Read(ref _offset),
                Ports = _ports,
                Status = _status,
            });
        }
    }
}
