using System.Diagnostics.Metrics;
using System.Text.Json;
using Corral.Core;
using Corral.Core.Api;
using Corral.Core.Cluster;
using Corral.Core.Monitoring;
using Corral.Core.Services;
using Corral.Server.Agents;
using Corral.Server.Api;
using Corral.Server.Controllers;
using Corral.Server.Leadership;
using Corral.Server.State;
using Corral.Store;

namespace Corral.Server.Metrics;

/// <summary>
/// The cluster-state gauges of one server (meter <c>Corral.Cluster</c>, one instance per server): nodes, replicas,
/// services, leadership, health score, alarms and per-node / per-replica resource use. Observable instruments read a
/// view that <see cref="RefreshAsync"/> builds from one store snapshot and this server's heartbeat table, so a scrape
/// costs one snapshot read and no store read per series.
/// </summary>
public sealed class CorralMetrics : IDisposable
{
    private static readonly string[] ReplicaStates = ["pending", "starting", "running", "healthy", "unhealthy", "exited", "failed", "stopping", "stopped", "lost"];

    private readonly ClusterState _state;
    private readonly HeartbeatTable _heartbeats;
    private readonly IServiceProvider _services;
    private volatile View _view = View.Empty;
    private volatile LocalHealth? _local;

    public CorralMetrics(ClusterState state, HeartbeatTable heartbeats, IServiceProvider services)
    {
        _state = state ?? throw new ArgumentNullException(nameof(state));
        _heartbeats = heartbeats ?? throw new ArgumentNullException(nameof(heartbeats));
        _services = services ?? throw new ArgumentNullException(nameof(services));
        Meter = new Meter("Corral.Cluster");
        Gauge("corral_nodes", "Registered nodes, by status (ready, down).", v => v.Nodes);
        Gauge("corral_replicas", "Replicas, by state (pending, starting, running, healthy, unhealthy, exited, failed, stopping, stopped, lost).", v => v.Replicas);
        Gauge("corral_service_desired_replicas", "Replicas a service wants.", v => v.ServiceDesired);
        Gauge("corral_service_running_replicas", "Replicas of a service that run.", v => v.ServiceRunning);
        Gauge("corral_service_healthy_replicas", "Replicas of a service that are healthy.", v => v.ServiceHealthy);
        Gauge("corral_leader", "1 when this server is the leader, else 0.", v => v.Leader);
        Gauge("corral_store_up", "1 when the store answered the last scrape and has a majority, else 0.", v => v.StoreUp);
        Gauge("corral_health_score", "The cluster's health score, 0 to 100 (see docs/alarms.md); absent until the monitor ran.", v => v.Health);
        Gauge("corral_alarms", "Active alarms, by severity (critical, warning, info).", v => v.Alarms);
        Gauge("corral_node_cpu_ratio", "A node's busy CPU share, 0 to 1, from its last heartbeat.", v => v.NodeCpu);
        Gauge("corral_node_memory_used_bytes", "A node's used memory, from its last heartbeat.", v => v.NodeMemory);
        Gauge("corral_node_disk_used_bytes", "Used bytes of the file system of a node's agent data dir.", v => v.NodeDiskUsed);
        Gauge("corral_node_disk_size_bytes", "Size of the file system of a node's agent data dir.", v => v.NodeDiskSize);
        Gauge("corral_replica_cpu_cores", "A replica's process tree CPU use, in cores (1 = one core busy), from its node's last report.", v => v.ReplicaCpu);
        Gauge("corral_replica_memory_rss_bytes", "A replica's process tree resident memory, from its node's last report.", v => v.ReplicaMemory);
    }

    /// <summary>This server's cluster meter.</summary>
    public Meter Meter { get; }

    /// <summary>Called by the leader's monitor after each pass: the score and alarms to show when the store cannot be read. Null clears.</summary>
    public void SetHealth(HealthEvaluation? evaluation, IReadOnlyList<Alarm>? alarms) =>
        _local = evaluation is null ? null : new LocalHealth(evaluation.Score, alarms is null ? null : AlarmCounts.Of(alarms));

    /// <summary>Reads the cluster once and swaps the view the gauges report.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var leading = _services.GetService<ILeadershipState>()?.IsLeader == true ? 1 : 0;
        try
        {
            // The watch-fed cache every server keeps for its agents (moments behind the store) saves a snapshot read.
            var cached = _services.GetService<AssignmentTracker>() is { } tracker
                ? await tracker.TrySnapshotAsync(0, TimeSpan.Zero, cancellationToken).ConfigureAwait(false)
                : null;
            var snapshot = cached?.Snapshot ?? await _state.ReadAsync(cancellationToken).ConfigureAwait(false);
            var status = await _state.Store.GetStatusAsync(cancellationToken).ConfigureAwait(false);
            var healthKv = await _state.Store.GetAsync(Keys.Health, cancellationToken).ConfigureAwait(false);
            var alarmRange = await _state.Store.RangeAsync(Keys.Alarms, null, cancellationToken).ConfigureAwait(false);
            var health = healthKv is null ? null : JsonSerializer.Deserialize(healthKv.Value.Span, CoreJson.Default.HealthReport);
            var alarms = AlarmCounts.Of(alarmRange.Kvs.Select(kv => JsonSerializer.Deserialize(kv.Value.Span, CoreJson.Default.Alarm)!));
            _view = Build(snapshot, status.HasQuorum, health?.Score, alarms, leading);
        }
        catch (StoreException)
        {
            var local = _local;
            _view = View.Empty with
            {
                Leader = [new(leading)],
                StoreUp = [new(0)],
                Health = local is null ? [] : [new(local.Score)],
                Alarms = local?.Alarms is { } counts ? AlarmMeasurements(counts) : [],
            };
        }
    }

    public void Dispose() => Meter.Dispose();

    private void Gauge(string name, string description, Func<View, Measurement<double>[]> select) =>
        Meter.CreateObservableGauge(name, () => select(_view), description: description);

    private View Build(ClusterSnapshot snapshot, bool storeUp, int? score, AlarmCounts alarms, int leading)
    {
        var nodes = snapshot.Nodes.Values.Select(v => v.Value).ToList();
        var replicaCounts = ReplicaStates.ToDictionary(s => s, _ => 0, StringComparer.Ordinal);
        var replicaCpu = new List<Measurement<double>>();
        var replicaMemory = new List<Measurement<double>>();
        foreach (var replica in snapshot.Replicas.Values.Select(v => v.Value))
        {
            replicaCounts[StateOf(replica)]++;
            var report = replica.Node is not null && replica.Active ? _heartbeats.GetReplica(replica.Id) : null;
            if (report is null)
            {
                continue;
            }
            var tags = new KeyValuePair<string, object?>[] { new("replica", replica.Id), new("service", replica.Service) };
            if (report.CpuPercent is { } cpu)
            {
                replicaCpu.Add(new(cpu / 100, tags));
            }
            if (report.RssBytes is { } rss)
            {
                replicaMemory.Add(new(rss, tags));
            }
        }
        var schedulable = nodes.Count(n => n.Schedulable);
        var counts = snapshot.Services.Values.ToDictionary(
            s => s.Value.Name,
            s => new int[] { s.Value.Mode == ServiceMode.Global ? schedulable : s.Value.Replicas, 0, 0 },
            StringComparer.Ordinal);
        foreach (var replica in snapshot.Replicas.Values.Select(v => v.Value))
        {
            if (counts.TryGetValue(replica.Service, out var c))
            {
                c[1] += Views.IsRunning(replica) ? 1 : 0;
                c[2] += replica.Healthy ? 1 : 0;
            }
        }
        Measurement<double>[] PerService(int index) =>
            [.. counts.Select(kv => new Measurement<double>(kv.Value[index], new KeyValuePair<string, object?>("service", kv.Key)))];
        Measurement<double>[] PerNode(Func<NodeHeartbeat, double?> value) =>
            [.. nodes.Select(n => (n.Name, Value: _heartbeats.Get(n.Name) is { } h ? value(h) : null))
                .Where(x => x.Value is not null)
                .Select(x => new Measurement<double>(x.Value!.Value, new KeyValuePair<string, object?>("node", x.Name)))];
        return new View(
            Nodes: [
                new(nodes.Count(n => n.Status == NodeStatus.Ready), new KeyValuePair<string, object?>("status", "ready")),
                new(nodes.Count(n => n.Status == NodeStatus.Down), new KeyValuePair<string, object?>("status", "down")),
            ],
            Replicas: [.. replicaCounts.Select(kv => new Measurement<double>(kv.Value, new KeyValuePair<string, object?>("state", kv.Key)))],
            ServiceDesired: PerService(0),
            ServiceRunning: PerService(1),
            ServiceHealthy: PerService(2),
            Leader: [new(leading)],
            StoreUp: [new(storeUp ? 1 : 0)],
            Health: score is { } s ? [new(s)] : [],
            Alarms: AlarmMeasurements(alarms),
            NodeCpu: PerNode(h => h.CpuPercent / 100),
            NodeMemory: PerNode(h => h.MemoryUsedBytes),
            NodeDiskUsed: PerNode(h => h.DiskUsedBytes),
            NodeDiskSize: PerNode(h => h.DiskTotalBytes),
            ReplicaCpu: [.. replicaCpu],
            ReplicaMemory: [.. replicaMemory]);
    }

    private static Measurement<double>[] AlarmMeasurements(AlarmCounts counts) =>
    [
        new(counts.Critical, new KeyValuePair<string, object?>("severity", "critical")),
        new(counts.Warning, new KeyValuePair<string, object?>("severity", "warning")),
        new(counts.Info, new KeyValuePair<string, object?>("severity", "info")),
    ];

    private static string StateOf(Replica replica) => replica.Phase switch
    {
        ReplicaPhase.Assigned => replica.State switch
        {
            Core.Tasks.ReplicaState.Running => "running",
            Core.Tasks.ReplicaState.Healthy => "healthy",
            Core.Tasks.ReplicaState.Unhealthy => "unhealthy",
            Core.Tasks.ReplicaState.Exited => "exited",
            Core.Tasks.ReplicaState.Failed => "failed",
            _ => "starting",
        },
        ReplicaPhase.Pending => "pending",
        ReplicaPhase.Stopping => "stopping",
        ReplicaPhase.Stopped => "stopped",
        ReplicaPhase.Lost => "lost",
        _ => "failed",
    };

    private sealed record LocalHealth(int Score, AlarmCounts? Alarms);

    private sealed record View(
        Measurement<double>[] Nodes,
        Measurement<double>[] Replicas,
        Measurement<double>[] ServiceDesired,
        Measurement<double>[] ServiceRunning,
        Measurement<double>[] ServiceHealthy,
        Measurement<double>[] Leader,
        Measurement<double>[] StoreUp,
        Measurement<double>[] Health,
        Measurement<double>[] Alarms,
        Measurement<double>[] NodeCpu,
        Measurement<double>[] NodeMemory,
        Measurement<double>[] NodeDiskUsed,
        Measurement<double>[] NodeDiskSize,
        Measurement<double>[] ReplicaCpu,
        Measurement<double>[] ReplicaMemory)
    {
        public static View Empty { get; } = new([], [], [], [], [], [], [], [], [], [], [], [], [], [], []);
    }
}
