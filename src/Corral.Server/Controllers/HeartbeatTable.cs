using System.Collections.Concurrent;
using Corral.Core.Api;

namespace Corral.Server.Controllers;

/// <summary>
/// Liveness and last stats of the nodes that heartbeat to this server, in memory only: a heartbeat costs no store
/// write. The <see cref="NodeMonitor"/> turns silence into <c>node.down</c> and a returning heartbeat into <c>node.up</c>.
/// With several servers, liveness of nodes that heartbeat to other servers arrives through
/// <see cref="LivenessRelay"/> (<see cref="RecordRelayed"/>) and counts like a heartbeat here. Thread-safe.
/// </summary>
public sealed class HeartbeatTable
{
    private readonly ConcurrentDictionary<string, NodeHeartbeat> _nodes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ReplicaReport> _replicas = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _relayed = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _down = new(StringComparer.Ordinal);
    private readonly WakeSignal _returned = new();

    /// <summary>
    /// Records a heartbeat received at <paramref name="now"/>: liveness, node stats (disk included), each replica's last
    /// report and when the node's client certificate expires (<paramref name="certificateNotAfter"/>, for the monitor).
    /// </summary>
    public void Record(AgentHeartbeat heartbeat, DateTimeOffset now, DateTimeOffset? certificateNotAfter = null)
    {
        ArgumentNullException.ThrowIfNull(heartbeat);
        _nodes[heartbeat.Node] = new NodeHeartbeat(now, heartbeat.CpuPercent, heartbeat.MemoryUsedBytes, heartbeat.Load1, heartbeat.DiskUsedBytes, heartbeat.DiskTotalBytes, certificateNotAfter);
        foreach (var report in heartbeat.Replicas ?? [])
        {
            _replicas[report.ReplicaId] = report;
        }
        Returned(heartbeat.Node);
    }

    /// <summary>Records liveness without stats (a registration counts as a heartbeat).</summary>
    public void Touch(string node, DateTimeOffset now)
    {
        ArgumentException.ThrowIfNullOrEmpty(node);
        _nodes.AddOrUpdate(node, _ => new NodeHeartbeat(now, null, null, null), (_, last) => last with { LastSeen = now });
        Returned(node);
    }

    /// <summary>
    /// Records that, as another server relays, <paramref name="node"/> was last heard of at <paramref name="seenAt"/>
    /// (replacing what was relayed before, so a relay can also move it back when the node went silent).
    /// </summary>
    public void RecordRelayed(string node, DateTimeOffset seenAt)
    {
        ArgumentException.ThrowIfNullOrEmpty(node);
        _relayed[node] = seenAt;
        Returned(node);
    }

    /// <summary>
    /// The node's liveness: its last heartbeat to this server with its stats, its last-seen time raised to what other
    /// servers relay; null when nothing was heard of it since this server started.
    /// </summary>
    public NodeHeartbeat? Get(string node)
    {
        var direct = GetDirect(node);
        if (!_relayed.TryGetValue(node, out var relayed) || (direct is not null && direct.LastSeen >= relayed))
        {
            return direct;
        }
        return direct is null ? new NodeHeartbeat(relayed, null, null, null) : direct with { LastSeen = relayed };
    }

    /// <summary>The node's last heartbeat to this server itself, or null when it sent none since this server started.</summary>
    public NodeHeartbeat? GetDirect(string node) => _nodes.TryGetValue(node, out var heartbeat) ? heartbeat : null;

    /// <summary>Every node that heartbeat to this server itself, with when it last did.</summary>
    public IReadOnlyList<(string Node, DateTimeOffset LastSeen)> DirectNodes() => [.. _nodes.Select(kv => (kv.Key, kv.Value.LastSeen))];

    /// <summary>The last report a node sent for a replica, or null.</summary>
    public ReplicaReport? GetReplica(string replicaId) => _replicas.TryGetValue(replicaId, out var report) ? report : null;

    /// <summary>Forgets a node and the reports of the given replicas (node removed, replicas deleted).</summary>
    public void Forget(string node, IEnumerable<string>? replicaIds = null)
    {
        _nodes.TryRemove(node, out _);
        _relayed.TryRemove(node, out _);
        _down.TryRemove(node, out _);
        foreach (var id in replicaIds ?? [])
        {
            _replicas.TryRemove(id, out _);
        }
    }

    /// <summary>Tells the table the node is down in the store, so its next heartbeat wakes <see cref="WaitForReturnAsync"/>.</summary>
    internal void MarkDown(string node) => _down.TryAdd(node, 0);

    /// <summary>Tells the table the node is up in the store.</summary>
    internal void MarkUp(string node) => _down.TryRemove(node, out _);

    /// <summary>Waits until a node marked down heartbeats again, or <paramref name="timeout"/>; true when one did.</summary>
    internal Task<bool> WaitForReturnAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken) =>
        _returned.WaitAsync(timeout, time, cancellationToken);

    private void Returned(string node)
    {
        if (_down.ContainsKey(node))
        {
            _returned.Set();
        }
    }
}
