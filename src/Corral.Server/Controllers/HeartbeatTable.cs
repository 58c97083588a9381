using System.Collections.Concurrent;
using Corral.Core.Api;

namespace Corral.Server.Controllers;

/// <summary>
/// Liveness and last stats of the nodes that heartbeat to this server, in memory only: a heartbeat costs no store
/// write. The <see cref="NodeMonitor"/> turns silence into <c>node.down</c> and a returning heartbeat into <c>node.up</c>.
/// With several servers, liveness of nodes that heartbeat to other servers arrives through
/// <see cref="LivenessRelay"/> (<see cref="RecordRelayed"/>) and counts like a heartbeat here; their stats and replica
/// reports arrive as the other servers' digests (<see cref="UseRelayed"/>), and whichever of a node's heartbeats is the
/// latest, here or relayed, is what <see cref="Get"/> and <see cref="GetReplica"/> answer. Thread-safe.
/// </summary>
public sealed class HeartbeatTable
{
    private readonly ConcurrentDictionary<string, NodeHeartbeat> _nodes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, IReadOnlyList<ReplicaReport>> _nodeReports = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TimedReport> _replicas = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _relayed = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _down = new(StringComparer.Ordinal);
    private readonly WakeSignal _returned = new();

    /// <summary>Merged digests of the other servers, swapped as a whole. Marked as volatile so that updates are atomic.</summary>
    private volatile RelayedStats _relayedStats = RelayedStats.Empty;

    /// <summary>
    /// Records a heartbeat received at <paramref name="now"/>: liveness, node stats (disk included), each replica's last
    /// report and when the node's client certificate expires (<paramref name="certificateNotAfter"/>, for the monitor).
    /// </summary>
    public void Record(AgentHeartbeat heartbeat, DateTimeOffset now, DateTimeOffset? certificateNotAfter = null)
    {
        ArgumentNullException.ThrowIfNull(heartbeat);
        _nodes[heartbeat.Node] = new NodeHeartbeat(now, heartbeat.CpuPercent, heartbeat.MemoryUsedBytes, heartbeat.Load1, heartbeat.DiskUsedBytes, heartbeat.DiskTotalBytes, certificateNotAfter);
        var reports = heartbeat.Replicas ?? [];
        _nodeReports[heartbeat.Node] = reports;
        foreach (var report in reports)
        {
            _replicas[report.ReplicaId] = new TimedReport(report, now);
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
    /// The node's liveness and stats: the stats of its latest heartbeat, to this server or (from the digests) to another
    /// one, and its last-seen time raised to what other servers relay; null when nothing was heard of it since this
    /// server started.
    /// </summary>
    public NodeHeartbeat? Get(string node)
    {
        var stats = GetDirect(node);
        if (_relayedStats.Nodes.TryGetValue(node, out var entry) && (stats is null || entry.LastSeen > stats.LastSeen))
        {
            stats = new NodeHeartbeat(entry.LastSeen, entry.CpuPercent, entry.MemoryUsedBytes, entry.Load1, entry.DiskUsedBytes, entry.DiskTotalBytes, entry.CertificateNotAfter);
        }
        if (!_relayed.TryGetValue(node, out var relayed) || (stats is not null && stats.LastSeen >= relayed))
        {
            return stats;
        }
        return stats is null ? new NodeHeartbeat(relayed, null, null, null) : stats with { LastSeen = relayed };
    }

    /// <summary>The node's last heartbeat to this server itself, or null when it sent none since this server started.</summary>
    public NodeHeartbeat? GetDirect(string node) => _nodes.TryGetValue(node, out var heartbeat) ? heartbeat : null;

    /// <summary>Every node that heartbeat to this server itself, with when it last did.</summary>
    public IReadOnlyList<(string Node, DateTimeOffset LastSeen)> DirectNodes() => [.. _nodes.Select(kv => (kv.Key, kv.Value.LastSeen))];

    /// <summary>The latest report a node sent for a replica, to this server or (from the digests) to another one; or null.</summary>
    public ReplicaReport? GetReplica(string replicaId)
    {
        var hasDirect = _replicas.TryGetValue(replicaId, out var direct);
        if (_relayedStats.Replicas.TryGetValue(replicaId, out var relayed) && (!hasDirect || relayed.At > direct.At))
        {
            return relayed.Report;
        }
        return hasDirect ? direct.Report : null;
    }

    /// <summary>
    /// This server's digest entries: every node that heartbeat to it within <paramref name="recent"/> before
    /// <paramref name="now"/>, with the stats and replica reports of its last heartbeat, ordered by node and replica.
    /// </summary>
    public IReadOnlyList<NodeDigestEntry> Digest(DateTimeOffset now, TimeSpan recent) =>
        [.. _nodes.Where(kv => now - kv.Value.LastSeen < recent)
            .OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => new NodeDigestEntry(kv.Key, kv.Value.LastSeen, kv.Value.CpuPercent, kv.Value.MemoryUsedBytes, kv.Value.Load1,
                kv.Value.DiskUsedBytes, kv.Value.DiskTotalBytes, kv.Value.CertificateNotAfter,
                [.. (_nodeReports.TryGetValue(kv.Key, out var reports) ? reports : []).OrderBy(r => r.ReplicaId, StringComparer.Ordinal)]))];

    /// <summary>
    /// Replaces what other servers relay of their nodes' heartbeats with <paramref name="digests"/> (each server's
    /// latest). A node in several digests (it moved between servers) counts with its latest heartbeat; each replica
    /// with the report of its node's latest heartbeat that carries it.
    /// </summary>
    public void UseRelayed(IEnumerable<NodeDigest> digests)
    {
        ArgumentNullException.ThrowIfNull(digests);
        var nodes = new Dictionary<string, NodeDigestEntry>(StringComparer.Ordinal);
        // Ordered by server so that equal heartbeat times resolve the same way on every server.
        foreach (var entry in digests.OrderBy(d => d.Server, StringComparer.Ordinal).SelectMany(d => d.Nodes ?? []))
        {
            if (!nodes.TryGetValue(entry.Node, out var have) || entry.LastSeen > have.LastSeen)
            {
                nodes[entry.Node] = entry;
            }
        }
        var replicas = new Dictionary<string, TimedReport>(StringComparer.Ordinal);
        foreach (var entry in nodes.Values)
        {
            foreach (var report in entry.Replicas ?? [])
            {
                if (!replicas.TryGetValue(report.ReplicaId, out var have) || entry.LastSeen > have.At)
                {
                    replicas[report.ReplicaId] = new TimedReport(report, entry.LastSeen);
                }
            }
        }
        _relayedStats = new RelayedStats(nodes, replicas);
    }

    /// <summary>Forgets a node and the reports of the given replicas (node removed, replicas deleted).</summary>
    public void Forget(string node, IEnumerable<string>? replicaIds = null)
    {
        _nodes.TryRemove(node, out _);
        _nodeReports.TryRemove(node, out _);
        _relayed.TryRemove(node, out _);
        _down.TryRemove(node, out _);
        var ids = (replicaIds ?? []).ToHashSet(StringComparer.Ordinal);
        foreach (var id in ids)
        {
            _replicas.TryRemove(id, out _);
        }
        // Until the next digest arrives (a removed node's server drops it once it falls silent).
        var relayed = _relayedStats;
        _relayedStats = new RelayedStats(
            relayed.Nodes.Where(kv => kv.Key != node).ToDictionary(StringComparer.Ordinal),
            relayed.Replicas.Where(kv => !ids.Contains(kv.Key)).ToDictionary(StringComparer.Ordinal));
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

    private readonly record struct TimedReport(ReplicaReport Report, DateTimeOffset At);

    private sealed record RelayedStats(IReadOnlyDictionary<string, NodeDigestEntry> Nodes, IReadOnlyDictionary<string, TimedReport> Replicas)
    {
        public static RelayedStats Empty { get; } = new(new Dictionary<string, NodeDigestEntry>(), new Dictionary<string, TimedReport>());
    }
}
