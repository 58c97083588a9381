using System.Text.Json;
using Corral.Core;
using Corral.Core.Api;
using Corral.Core.Cluster;
using Corral.Core.Services;
using Corral.Server.Controllers;
using Corral.Server.State;
using Corral.Store;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Corral.Server.Agents;

/// <summary>
/// What every node must run, kept in memory on every server from one store watch, and the blocking query agents
/// long-poll (<c>GET /v1/agent/assignments?node=N&amp;index=I&amp;wait=30s</c>).
/// </summary>
/// <remarks>
/// Each node has an index: the revision of the last change to a replica that is or was on it (or that changed how its
/// replicas must be run, such as a singleton becoming a replicated service). A query returns at once when the node's
/// index is above the one the agent passed, otherwise when such a change arrives or the wait ends. The answer's
/// <see cref="AssignmentSet.Index"/> is the revision the tracker has applied: pass it to the next query. After a
/// (re)load every node's index is the load revision, so an agent that knew an older revision gets a fresh answer at once.
/// </remarks>
public sealed class AssignmentTracker : BackgroundService
{
    private readonly ClusterState _state;
    private readonly TimeProvider _time;
    private readonly ILogger<AssignmentTracker> _logger;
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Dictionary<string, Versioned<Replica>> _replicas = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _byNode = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _nodeIndex = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Versioned<ServiceSpec>> _services = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ServiceSpec> _versions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Versioned<Node>> _nodes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TaskCompletionSource> _waiters = new(StringComparer.Ordinal);
    private readonly HashSet<string> _warned = new(StringComparer.Ordinal);
    private TaskCompletionSource _advanced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _revision;
    private long _baseline;

    public AssignmentTracker(ClusterState state, TimeProvider time, ILogger<AssignmentTracker> logger)
    {
        _state = state ?? throw new ArgumentNullException(nameof(state));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    /// <summary>The store revision the tracker has applied.</summary>
    public long Revision
    {
        get
        {
            lock (_gate)
            {
                return _revision;
            }
        }
    }

    /// <summary>Completes once the tracker has loaded the cluster state for the first time.</summary>
    public Task WaitReadyAsync(CancellationToken cancellationToken) => _ready.Task.WaitAsync(cancellationToken);

    /// <summary>True when the node is registered, as of the applied revision.</summary>
    public bool IsKnownNode(string node)
    {
        lock (_gate)
        {
            return _nodes.ContainsKey(node);
        }
    }

    /// <summary>The node's record as of the applied revision, with that revision; null when it is not registered.</summary>
    public (Versioned<Node>? Node, long Revision) GetNode(string node)
    {
        lock (_gate)
        {
            return (_nodes.GetValueOrDefault(node), _revision);
        }
    }

    /// <summary>The replica as of the applied revision, or null.</summary>
    public Versioned<Replica>? GetReplica(string id)
    {
        lock (_gate)
        {
            return _replicas.GetValueOrDefault(id);
        }
    }

    /// <summary>Ids of the replicas in phase <see cref="ReplicaPhase.Stopping"/> on the node, as of the applied revision.</summary>
    public IReadOnlyList<string> StoppingOn(string node)
    {
        lock (_gate)
        {
            return [.. (_byNode.GetValueOrDefault(node) ?? []).Where(id => _replicas[id].Value.Phase == ReplicaPhase.Stopping)];
        }
    }

    /// <summary>
    /// Services, replicas and nodes exactly as of one revision at or above <paramref name="atLeast"/>, with the keys of
    /// the service versions stored then; null when the tracker has not loaded yet or has not caught up within
    /// <paramref name="timeout"/> (read the store instead). Copies: the caller owns the result.
    /// </summary>
    public async Task<(ClusterSnapshot Snapshot, IReadOnlyList<string> VersionKeys)?> TrySnapshotAsync(long atLeast, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!_ready.Task.IsCompleted)
        {
            return null;
        }
        var deadline = _time.GetUtcNow() + timeout;
        while (true)
        {
            Task advanced;
            lock (_gate)
            {
                if (_revision >= atLeast)
                {
                    var snapshot = new ClusterSnapshot(
                        _revision,
                        new Dictionary<string, Versioned<ServiceSpec>>(_services, StringComparer.Ordinal),
                        new Dictionary<string, Versioned<Replica>>(_replicas, StringComparer.Ordinal),
                        new Dictionary<string, Versioned<Node>>(_nodes, StringComparer.Ordinal));
                    return (snapshot, [.. _versions.Keys.Select(k => ServiceVersions.Prefix + k)]);
                }
                advanced = _advanced.Task;
            }
            var remaining = deadline - _time.GetUtcNow();
            if (remaining <= TimeSpan.Zero)
            {
                return null;
            }
            try
            {
                await advanced.WaitAsync(remaining, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                return null;
            }
        }
    }

    /// <summary>
    /// The node's assignments: at once when its index is above <paramref name="index"/>, otherwise once something
    /// changes for it or <paramref name="wait"/> has passed (then unchanged, with the current index).
    /// </summary>
    public async Task<AssignmentSet> GetAssignmentsAsync(string node, long index, TimeSpan wait, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(node);
        await WaitReadyAsync(cancellationToken).ConfigureAwait(false);
        var deadline = _time.GetUtcNow() + wait;
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                if (_nodeIndex.GetValueOrDefault(node, _baseline) > index)
                {
                    return Build(node);
                }
                if (!_waiters.TryGetValue(node, out var waiter))
                {
                    waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    _waiters[node] = waiter;
                }
                changed = waiter.Task;
            }
            var remaining = deadline - _time.GetUtcNow();
            if (remaining <= TimeSpan.Zero)
            {
                lock (_gate)
                {
                    return Build(node);
                }
            }
            try
            {
                await changed.WaitAsync(remaining, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                lock (_gate)
                {
                    return Build(node);
                }
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var snapshot = await _state.ReadAsync(stoppingToken).ConfigureAwait(false);
                var versions = await _state.Store.RangeAsync(ServiceVersions.Prefix, new RangeOptions { Revision = snapshot.Revision }, stoppingToken).ConfigureAwait(false);
                Load(snapshot, versions.Kvs);
                AgentsLog.TrackerLoaded(_logger, snapshot.Replicas.Count, snapshot.Revision);
                _ready.TrySetResult();
                await foreach (var batch in _state.Store.WatchAsync(Keys.Root, snapshot.Revision + 1, stoppingToken).ConfigureAwait(false))
                {
                    Apply(batch);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is StoreException or IOException or HttpRequestException or JsonException)
            {
                AgentsLog.TrackerWatchFailed(_logger, e);
                await Task.Delay(TimeSpan.FromMilliseconds(200), _time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private void Load(ClusterSnapshot snapshot, IReadOnlyList<KeyValue> versions)
    {
        lock (_gate)
        {
            _replicas.Clear();
            _byNode.Clear();
            _nodeIndex.Clear();
            _services.Clear();
            _versions.Clear();
            _nodes.Clear();
            foreach (var (id, replica) in snapshot.Replicas)
            {
                _replicas[id] = replica;
                Attach(id, replica.Value.Node);
            }
            foreach (var (name, service) in snapshot.Services)
            {
                _services[name] = service;
            }
            foreach (var kv in versions)
            {
                if (ServiceVersions.Parse(kv.Key) is { } v)
                {
                    _versions[v.Service + "/" + v.Version] = JsonSerializer.Deserialize(kv.Value.Span, CoreJson.Default.ServiceSpec)!;
                }
            }
            foreach (var (name, node) in snapshot.Nodes)
            {
                _nodes[name] = node;
            }
            _revision = snapshot.Revision;
            _baseline = snapshot.Revision;
            _advanced.TrySetResult();
            _advanced = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            foreach (var waiter in _waiters.Values)
            {
                waiter.TrySetResult();
            }
            _waiters.Clear();
        }
    }

    private void Apply(WatchBatch batch)
    {
        lock (_gate)
        {
            var touched = new HashSet<string>(StringComparer.Ordinal);
            foreach (var e in batch.Events)
            {
                var key = e.Kv.Key;
                if (key.StartsWith(Keys.Replicas, StringComparison.Ordinal))
                {
                    var id = key[Keys.Replicas.Length..];
                    if (_replicas.Remove(id, out var old) && old.Value.Node is { } oldNode)
                    {
                        Detach(id, oldNode);
                        touched.Add(oldNode);
                    }
                    if (e.Type == WatchEventType.Put)
                    {
                        var replica = JsonSerializer.Deserialize(e.Kv.Value.Span, CoreJson.Default.Replica)!;
                        _replicas[id] = new Versioned<Replica>(replica, e.Kv.ModRevision);
                        Attach(id, replica.Node);
                        if (replica.Node is { } node)
                        {
                            touched.Add(node);
                        }
                    }
                }
                else if (key.StartsWith(Keys.Services, StringComparison.Ordinal))
                {
                    var name = key[Keys.Services.Length..];
                    var old = _services.GetValueOrDefault(name)?.Value;
                    ServiceSpec? spec = null;
                    if (e.Type == WatchEventType.Put)
                    {
                        spec = JsonSerializer.Deserialize(e.Kv.Value.Span, CoreJson.Default.ServiceSpec)!;
                        _services[name] = new Versioned<ServiceSpec>(spec, e.Kv.ModRevision);
                    }
                    else
                    {
                        _services.Remove(name);
                    }
                    if (old is not null && spec is not null
                        && (old.IsSingleton != spec.IsSingleton || old.EffectiveFenceAfter != spec.EffectiveFenceAfter))
                    {
                        touched.UnionWith(_replicas.Values.Where(r => r.Value.Service == name && r.Value.Node is not null).Select(r => r.Value.Node!));
                    }
                }
                else if (ServiceVersions.Parse(key) is { } version)
                {
                    if (e.Type == WatchEventType.Put)
                    {
                        _versions[version.Service + "/" + version.Version] = JsonSerializer.Deserialize(e.Kv.Value.Span, CoreJson.Default.ServiceSpec)!;
                    }
                    else
                    {
                        _versions.Remove(version.Service + "/" + version.Version);
                    }
                }
                else if (key.StartsWith(Keys.Nodes, StringComparison.Ordinal))
                {
                    var name = key[Keys.Nodes.Length..];
                    var was = _nodes.GetValueOrDefault(name)?.Value.Status;
                    if (e.Type == WatchEventType.Put)
                    {
                        var node = JsonSerializer.Deserialize(e.Kv.Value.Span, CoreJson.Default.Node)!;
                        _nodes[name] = new Versioned<Node>(node, e.Kv.ModRevision);
                        if (node.Status != was)
                        {
                            // The set carries whether the node is ready: an agent waiting to start a singleton hears of it.
                            touched.Add(name);
                        }
                    }
                    else
                    {
                        _nodes.Remove(name);
                        touched.Add(name);
                    }
                }
            }
            _revision = batch.Revision;
            _advanced.TrySetResult();
            _advanced = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            foreach (var node in touched)
            {
                _nodeIndex[node] = batch.Revision;
                if (_waiters.Remove(node, out var waiter))
                {
                    waiter.TrySetResult();
                }
            }
        }
    }

    private void Attach(string id, string? node)
    {
        if (node is null)
        {
            return;
        }
        if (!_byNode.TryGetValue(node, out var ids))
        {
            ids = new HashSet<string>(StringComparer.Ordinal);
            _byNode[node] = ids;
        }
        ids.Add(id);
    }

    private void Detach(string id, string node)
    {
        if (_byNode.TryGetValue(node, out var ids) && ids.Remove(id) && ids.Count == 0)
        {
            _byNode.Remove(node);
        }
    }

    /// <summary>Called under the gate.</summary>
    private AssignmentSet Build(string node)
    {
        var assignments = new List<Assignment>();
        foreach (var id in _byNode.GetValueOrDefault(node) ?? [])
        {
            var replica = _replicas[id].Value;
            if (replica.Phase != ReplicaPhase.Assigned)
            {
                continue;
            }
            var current = _services.GetValueOrDefault(replica.Service)?.Value;
            var spec = _versions.GetValueOrDefault(replica.Service + "/" + replica.Version)
                ?? (current is not null && current.Version == replica.Version ? current : null);
            if (spec is null)
            {
                if (_warned.Add(id))
                {
                    AgentsLog.UnknownVersion(_logger, id, replica.Service, replica.Version, node);
                }
                continue;
            }
            var policy = current ?? spec;
            assignments.Add(new Assignment(replica.Id, replica.Service, replica.Version, spec.Task, policy.IsSingleton, policy.EffectiveFenceAfter));
        }
        assignments.Sort((a, b) => string.CompareOrdinal(a.ReplicaId, b.ReplicaId));
        return new AssignmentSet(_revision, assignments, _nodes.TryGetValue(node, out var record) && record.Value.Status == NodeStatus.Ready);
    }
}
