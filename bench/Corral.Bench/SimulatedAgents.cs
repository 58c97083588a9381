using System.Diagnostics;
using System.Text.Json;
using Corral.Core;
using Corral.Core.Api;
using Corral.Core.Cluster;
using Corral.Core.Tasks;
using Corral.Server.Agents;
using Corral.Server.State;
using Corral.Store;
using Microsoft.Extensions.Logging.Abstractions;

namespace Corral.Bench;

/// <summary>
/// Agents that acknowledge at once: every replica assigned to a node is reported healthy through the server's own
/// heartbeat path (<see cref="ReplicaReportWriter"/> over an <see cref="AssignmentTracker"/>), one report batch per
/// node, several nodes at a time. Replicas still unacknowledged are reported again every second, as heartbeats
/// repeat. Counts placed and acknowledged replicas from a store watch and records when each count reached the target.
/// </summary>
internal sealed class SimulatedAgents : IAsyncDisposable
{
    private const int Parallelism = 8;

    private readonly ClusterState _state;
    private readonly int _expected;
    private long _start;
    private readonly AssignmentTracker _tracker;
    private readonly ReplicaReportWriter _writer;
    private readonly CancellationTokenSource _cts = new();
    private readonly Lock _gate = new();
    private readonly Dictionary<string, string> _unacked = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<string>> _pending = new(StringComparer.Ordinal);
    private readonly HashSet<string> _placed = new(StringComparer.Ordinal);
    private readonly HashSet<string> _acked = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _work = new(0);
    private readonly TaskCompletionSource<TimeSpan> _allPlaced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<TimeSpan> _allAcked = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _pendingRevision;
    private Task _watching = Task.CompletedTask;
    private Task _acking = Task.CompletedTask;

    /// <param name="state">The cluster state the agents report into.</param>
    /// <param name="expected">Replicas to wait for.</param>
    public SimulatedAgents(ClusterState state, int expected)
    {
        _state = state;
        _expected = expected;
        _start = Stopwatch.GetTimestamp();
        _tracker = new AssignmentTracker(state, TimeProvider.System, NullLogger<AssignmentTracker>.Instance);
        _writer = new ReplicaReportWriter(state, _tracker, NullLogger<ReplicaReportWriter>.Instance);
    }

    /// <summary>The server's watch-fed state the heartbeat path checks reports against (the reconciler may plan from it too).</summary>
    public AssignmentTracker Tracker => _tracker;

    /// <summary>Completes with the time from the deploy until the last replica was assigned to a node.</summary>
    public Task<TimeSpan> AllPlaced => _allPlaced.Task;

    /// <summary>Completes with the time from the deploy until the last replica was reported healthy.</summary>
    public Task<TimeSpan> AllAcknowledged => _allAcked.Task;

    public int Placed
    {
        get
        {
            lock (_gate)
            {
                return _placed.Count;
            }
        }
    }

    public int Acknowledged
    {
        get
        {
            lock (_gate)
            {
                return _acked.Count;
            }
        }
    }

    /// <summary>Times from now on are measured from this moment (the deploy).</summary>
    public void MarkDeploy() => Volatile.Write(ref _start, Stopwatch.GetTimestamp());

    /// <summary>Starts the tracker and the watch from <paramref name="fromRevision"/>; returns once both are running.</summary>
    public async Task StartAsync(long fromRevision, CancellationToken cancellationToken)
    {
        await _tracker.StartAsync(cancellationToken).ConfigureAwait(false);
        await _tracker.WaitReadyAsync(cancellationToken).ConfigureAwait(false);
        var token = _cts.Token;
        _watching = Task.Run(() => WatchAsync(fromRevision, token), CancellationToken.None);
        _acking = Task.Run(() => AckAsync(token), CancellationToken.None);
    }

    private async Task WatchAsync(long fromRevision, CancellationToken cancellationToken)
    {
        await foreach (var batch in _state.Store.WatchAsync(Keys.Replicas, fromRevision, cancellationToken).ConfigureAwait(false))
        {
            var wake = false;
            lock (_gate)
            {
                foreach (var e in batch.Events)
                {
                    if (e.Type != WatchEventType.Put)
                    {
                        continue;
                    }
                    var replica = JsonSerializer.Deserialize(e.Kv.Value.Span, CoreJson.Default.Replica)!;
                    if (replica.Phase != ReplicaPhase.Assigned || replica.Node is null)
                    {
                        continue;
                    }
                    if (_placed.Add(replica.Id) && _placed.Count == _expected)
                    {
                        _allPlaced.TrySetResult(Stopwatch.GetElapsedTime(Volatile.Read(ref _start)));
                    }
                    if (replica.State == ReplicaState.Healthy)
                    {
                        _unacked.Remove(replica.Id);
                        if (_acked.Add(replica.Id) && _acked.Count == _expected)
                        {
                            _allAcked.TrySetResult(Stopwatch.GetElapsedTime(Volatile.Read(ref _start)));
                        }
                    }
                    else if (!_acked.Contains(replica.Id))
                    {
                        _unacked[replica.Id] = replica.Node;
                        Pending(replica.Node).Add(replica.Id);
                        _pendingRevision = Math.Max(_pendingRevision, batch.Revision);
                        wake = true;
                    }
                }
            }
            if (wake)
            {
                _work.Release();
            }
        }
    }

    private async Task AckAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            if (!await _work.WaitAsync(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false))
            {
                // A quiet second: report every unacknowledged replica again, as the next heartbeats would.
                lock (_gate)
                {
                    foreach (var (id, node) in _unacked)
                    {
                        Pending(node).Add(id);
                    }
                }
            }
            List<KeyValuePair<string, List<string>>> work;
            long revision;
            lock (_gate)
            {
                work = [.. _pending];
                _pending.Clear();
                revision = _pendingRevision;
            }
            if (work.Count == 0)
            {
                continue;
            }
            // The writer only accepts reports on replicas its tracker already knows are on the node.
            for (var i = 0; i < 2000 && _tracker.Revision < revision; i++)
            {
                await Task.Delay(5, cancellationToken).ConfigureAwait(false);
            }
            var now = DateTimeOffset.UtcNow;
            await Parallel.ForEachAsync(
                work,
                new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken },
                async (entry, ct) =>
                {
                    var reports = entry.Value.Distinct(StringComparer.Ordinal)
                        .Select(id => new ReplicaReport(id, ReplicaState.Healthy, now, "", null, null, null, null, null))
                        .ToList();
                    await _writer.ApplyAsync(entry.Key, reports, ct).ConfigureAwait(false);
                }).ConfigureAwait(false);
        }
    }

    private List<string> Pending(string node)
    {
        if (!_pending.TryGetValue(node, out var list))
        {
            list = [];
            _pending[node] = list;
        }
        return list;
    }

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync().ConfigureAwait(false);
        await _watching.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _acking.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _tracker.StopAsync(CancellationToken.None).ConfigureAwait(false);
        _tracker.Dispose();
        _cts.Dispose();
        _work.Dispose();
    }
}
