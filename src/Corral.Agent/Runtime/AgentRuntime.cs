using System.Text.Json;
using Corral.Agent.Drivers;
using Corral.Agent.Ports;
using Corral.Agent.Stats;
using Corral.Core.Tasks;
using Microsoft.Extensions.Logging;

namespace Corral.Agent.Runtime;

/// <summary>
/// The agent's task side: one <see cref="ReplicaRunner"/> per desired task, a supervisor kept alive by a
/// <see cref="SupervisorGuard"/>, and <c>status.json</c> rewritten (atomically) on every change. Disposing it
/// detaches from the tasks without stopping them: the next agent re-attaches. Logs what it applies, every replica's
/// start, exit, restart and stop, and the stops of its fence (EventIds 6100–6199).
/// </summary>
public sealed class AgentRuntime : IAsyncDisposable
{
    private readonly AgentOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<AgentRuntime> _logger;
    private readonly SemaphoreSlim _apply = new(1, 1);
    private readonly Lock _statusLock = new();
    private readonly Dictionary<string, (ReplicaRunner Runner, string Fingerprint)> _runners = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (ReplicaView View, DateTimeOffset Until)> _ended = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ReplicaView> _fenced = new(StringComparer.Ordinal);
    private readonly RunnerServices _services;
    private readonly NodeStatsSampler _nodeStats;
    private readonly CancellationTokenSource _stopSampling = new();
    private Task _sampling = Task.CompletedTask;
    private NodeStats? _lastNodeStats;
    private bool _firstApply = true;
    private int _statusPending;

    /// <param name="options">Where the agent keeps its state and how it runs its supervisor.</param>
    /// <param name="time">The clock of every delay, timestamp and retention.</param>
    /// <param name="loggers">Loggers of the runtime, its supervisor guard and its replica runners.</param>
    public AgentRuntime(AgentOptions options, TimeProvider time, ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggers);
        _options = options;
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = loggers.CreateLogger<AgentRuntime>();
        Directory.CreateDirectory(options.DataDirectory);
        Guard = new SupervisorGuard(options, time, loggers.CreateLogger<SupervisorGuard>());
        Driver = new ProcessDriver(Guard.Client, time);
        Guard.Restarted += _ => RequestStatusWrite();
        _nodeStats = new NodeStatsSampler(options.DataDirectory, time);
        _services = new RunnerServices(options, Driver, Guard, new PortAllocator(options.FirstPort, options.LastPort, Random.Shared.Next(options.FirstPort, options.LastPort + 1)), options.LocalLogCopy ? new FileLogSink(Path.Combine(options.DataDirectory, "logs")) : new DiscardLogSink(), time, loggers.CreateLogger<ReplicaRunner>());
    }

    public SupervisorGuard Guard { get; }

    /// <summary>
    /// Raised when a replica changes state (starting, running, healthy, unhealthy, exited, failed); not for stats. Raised
    /// on the runner's thread: handlers must be quick and must not throw.
    /// </summary>
    public event Action? ReplicaChanged;

    public ITaskDriver Driver { get; }

    public string StatusPath => Path.Combine(_options.DataDirectory, "status.json");

    private string HandlesDirectory => Path.Combine(_options.DataDirectory, "handles");

    /// <summary>Connects to (or starts) the supervisor and starts watching it.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await Guard.EnsureAsync(cancellationToken).ConfigureAwait(false);
        Guard.StartWatching();
        _sampling = Task.Run(() => SampleAsync(_stopSampling.Token));
        WriteStatus();
    }

    /// <summary>Samples every running task's tree and the node every <see cref="AgentOptions.StatsInterval"/>.</summary>
    private async Task SampleAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_options.StatsInterval, _time, cancellationToken).ConfigureAwait(false);
                ReplicaRunner[] runners;
                lock (_statusLock)
                {
                    runners = [.. _runners.Values.Select(r => r.Runner)];
                }
                var handles = runners.Select(r => r.RunningHandle).OfType<TaskHandle>().ToList();
                var stats = await Driver.StatsAsync(handles, cancellationToken).ConfigureAwait(false);
                foreach (var runner in runners)
                {
                    runner.SetStats(stats.GetValueOrDefault(runner.TaskId));
                }
                _lastNodeStats = _nodeStats.Sample();
                WriteStatus();
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (IOException)
            {
                // /proc or the data dir could not be read this time; the next tick tries again.
            }
        }
    }

    /// <summary>How long <see cref="Ended"/> keeps reporting a replica after it was stopped: 5 minutes.</summary>
    public static readonly TimeSpan EndedRetention = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Makes the node run exactly <paramref name="desired"/>: new tasks start (or re-attach, when a previous agent
    /// left a record for the same spec), removed ones are stopped and forgotten (and listed by <see cref="Ended"/>
    /// once stopped), changed ones are replaced.
    /// </summary>
    public async Task ApplyAsync(IReadOnlyDictionary<string, TaskSpec> desired, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(desired);
        await _apply.WaitAsync(cancellationToken).ConfigureAwait(false);
        int added = 0, removed = 0, replaced = 0;
        try
        {
            var removals = new List<Task>();
            foreach (var (id, entry) in _runners.ToList())
            {
                if (!desired.TryGetValue(id, out var spec) || Fingerprint(spec) != entry.Fingerprint)
                {
                    lock (_statusLock)
                    {
                        _runners.Remove(id);
                    }
                    if (spec is null)
                    {
                        removed++;
                    }
                    else
                    {
                        replaced++;
                    }
                    removals.Add(RemoveAsync(id, entry.Runner, cancellationToken));
                }
            }
            await Task.WhenAll(removals).ConfigureAwait(false);

            if (_firstApply)
            {
                _firstApply = false;
                await ForgetUndesiredAsync(desired, cancellationToken).ConfigureAwait(false);
            }
            lock (_statusLock)
            {
                foreach (var (id, view) in _fenced.Where(f => !desired.ContainsKey(f.Key)).ToList())
                {
                    // Fenced, then replaced elsewhere: it stays stopped.
                    _fenced.Remove(id);
                    var now = _time.GetUtcNow();
                    _ended[id] = (view with { Since = now, Reason = "stopped: no longer assigned to this node (it had been fenced)" }, now + EndedRetention);
                }
            }
            foreach (var (id, spec) in desired)
            {
                if (_runners.ContainsKey(id))
                {
                    continue;
                }
                var fingerprint = Fingerprint(spec);
                var saved = LoadRecord(id);
                if (saved is not null && Fingerprint(saved.Spec) != fingerprint)
                {
                    // The spec changed while no agent ran: replace the old task.
                    await Driver.DestroyAsync(id, cancellationToken).ConfigureAwait(false);
                    saved = null;
                }
                var runner = new ReplicaRunner(id, spec, _services);
                runner.Changed += _ =>
                {
                    RequestStatusWrite();
                    ReplicaChanged?.Invoke();
                };
                lock (_statusLock)
                {
                    _runners[id] = (runner, fingerprint);
                    _ended.Remove(id);
                    _fenced.Remove(id);
                }
                runner.Start(saved);
                added++;
            }
        }
        finally
        {
            _apply.Release();
        }
        if (added + removed + replaced > 0)
        {
            // A replaced replica is counted once, as replaced (also among the added, which start it anew).
            AgentRuntimeLog.Applied(_logger, desired.Count, added - replaced, removed, replaced);
        }
        WriteStatus();
    }

    /// <summary>
    /// Replicas this runtime stopped because they were no longer desired, each with its last view in state
    /// <see cref="ReplicaState.Exited"/> (or <see cref="ReplicaState.Failed"/> when it had failed) and no PID, for
    /// <see cref="EndedRetention"/> after the stop: what a server needs to confirm a stop it asked for. A replica that is
    /// desired again is no longer listed. Replicas stopped by <see cref="FenceAsync"/> are listed too (state
    /// <see cref="ReplicaState.Exited"/>, a reason that starts with <c>fenced:</c>) until the next apply settles them.
    /// </summary>
    public IReadOnlyDictionary<string, ReplicaView> Ended()
    {
        var now = _time.GetUtcNow();
        lock (_statusLock)
        {
            foreach (var id in _ended.Where(e => e.Value.Until <= now).Select(e => e.Key).ToList())
            {
                _ended.Remove(id);
            }
            var ended = _ended.ToDictionary(e => e.Key, e => e.Value.View, StringComparer.Ordinal);
            foreach (var (id, view) in _fenced)
            {
                ended[id] = view;
            }
            return ended;
        }
    }

    /// <summary>
    /// Stops the given replicas (id → reason) without forgetting that they were assigned: they are reported as
    /// <see cref="ReplicaState.Exited"/> with the reason, and start again only when a later <see cref="ApplyAsync"/>
    /// still desires them (or are forgotten when it does not). Ids this runtime does not run are ignored.
    /// </summary>
    public async Task FenceAsync(IReadOnlyDictionary<string, string> replicas, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(replicas);
        await _apply.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var stops = new List<Task>();
            foreach (var (id, reason) in replicas)
            {
                ReplicaRunner runner;
                lock (_statusLock)
                {
                    if (!_runners.Remove(id, out var entry))
                    {
                        continue;
                    }
                    runner = entry.Runner;
                }
                stops.Add(StopFencedAsync(id, runner, reason, cancellationToken));
            }
            await Task.WhenAll(stops).ConfigureAwait(false);
        }
        finally
        {
            _apply.Release();
        }
        WriteStatus();
    }

    private async Task StopFencedAsync(string id, ReplicaRunner runner, string reason, CancellationToken cancellationToken)
    {
        var pid = runner.View().Pid;
        AgentRuntimeLog.FenceStopSent(_logger, id, pid, reason);
        var sent = _time.GetTimestamp();
        await runner.RemoveAsync(cancellationToken).ConfigureAwait(false);
        AgentRuntimeLog.FenceStopDone(_logger, id, pid, _time.GetElapsedTime(sent).TotalMilliseconds);
        var last = runner.View();
        lock (_statusLock)
        {
            _fenced[id] = last with { State = ReplicaState.Exited, Since = _time.GetUtcNow(), Reason = reason, Pid = 0, Stats = null };
        }
    }

    private async Task RemoveAsync(string id, ReplicaRunner runner, CancellationToken cancellationToken)
    {
        var pid = runner.View().Pid;
        var sent = _time.GetTimestamp();
        await runner.RemoveAsync(cancellationToken).ConfigureAwait(false);
        AgentRuntimeLog.ReplicaRemoved(_logger, id, pid, _time.GetElapsedTime(sent).TotalMilliseconds);
        var last = runner.View();
        var now = _time.GetUtcNow();
        var ended = last with
        {
            State = last.State == ReplicaState.Failed ? ReplicaState.Failed : ReplicaState.Exited,
            Since = now,
            Reason = last.State == ReplicaState.Failed ? last.Reason : "stopped: no longer assigned to this node",
            Pid = 0,
            Stats = null,
        };
        lock (_statusLock)
        {
            if (!_runners.ContainsKey(id))
            {
                _ended[id] = (ended, now + EndedRetention);
            }
        }
    }

    /// <summary>Every replica's current view.</summary>
    public IReadOnlyDictionary<string, ReplicaView> Snapshot()
    {
        lock (_statusLock)
        {
            return _runners.ToDictionary(r => r.Key, r => r.Value.Runner.View(), StringComparer.Ordinal);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _apply.WaitAsync().ConfigureAwait(false);
        await _stopSampling.CancelAsync().ConfigureAwait(false);
        try
        {
            await _sampling.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        _stopSampling.Dispose();
        await Task.WhenAll(_runners.Values.Select(r => r.Runner.DetachAsync())).ConfigureAwait(false);
        await Guard.DisposeAsync().ConfigureAwait(false);
        WriteStatus();
        _apply.Release();
        _apply.Dispose();
    }

    private async Task ForgetUndesiredAsync(IReadOnlyDictionary<string, TaskSpec> desired, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(HandlesDirectory))
        {
            return;
        }
        foreach (var path in Directory.GetFiles(HandlesDirectory, "*.json"))
        {
            var id = Path.GetFileNameWithoutExtension(path);
            if (!desired.ContainsKey(id))
            {
                // Removed from the tasks while no agent ran.
                await Driver.DestroyAsync(id, cancellationToken).ConfigureAwait(false);
                AgentRuntimeLog.Forgotten(_logger, id);
                _services.Ports.Release(id);
                File.Delete(path);
                var now = _time.GetUtcNow();
                lock (_statusLock)
                {
                    _ended[id] = (new ReplicaView { State = ReplicaState.Exited, Since = now, Reason = "stopped: no longer assigned to this node" }, now + EndedRetention);
                }
            }
        }
    }

    private ReplicaRecord? LoadRecord(string id)
    {
        var path = Path.Combine(HandlesDirectory, id + ".json");
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize<ReplicaRecord>(File.ReadAllBytes(path), AgentJson.Options) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Fingerprint(TaskSpec spec) => JsonSerializer.Serialize(spec, AgentJson.Options);

    /// <summary>Coalesces bursts of changes (a restart is three transitions) into one write, 20 ms later.</summary>
    private void RequestStatusWrite()
    {
        if (Interlocked.Exchange(ref _statusPending, 1) == 1)
        {
            return;
        }
        _ = Task.Run(async () =>
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), _time).ConfigureAwait(false);
            Interlocked.Exchange(ref _statusPending, 0);
            WriteStatus();
        });
    }

    private void WriteStatus()
    {
        lock (_statusLock)
        {
            var hello = Guard.Current;
            AgentJson.WriteAtomically(StatusPath, new AgentStatusFile
            {
                UpdatedAt = _time.GetUtcNow(),
                AgentPid = Environment.ProcessId,
                SupervisorPid = hello?.Pid,
                SupervisorInstance = hello?.InstanceId,
                Replicas = _runners.ToDictionary(r => r.Key, r => r.Value.Runner.View(), StringComparer.Ordinal),
                Node = _lastNodeStats,
            });
        }
    }
}
