using System.Text.Json;
using Corral.Core;
using Corral.Core.Api;
using Corral.Core.Cluster;
using Corral.Core.Monitoring;
using Corral.Server.Agents;
using Corral.Server.Api;
using Corral.Server.Controllers;
using Corral.Server.Leadership;
using Corral.Server.Metrics;
using Corral.Server.State;
using Corral.Store;

namespace Corral.Server.Monitoring;

/// <summary>
/// Leader-only: every <see cref="MonitorOptions.Interval"/> reads the cluster (nodes, services, replicas' restart
/// counters, store members, certificates), computes the health score with <see cref="HealthMonitor"/>, writes it to
/// <see cref="Keys.Health"/> when it changed, and raises and clears alarms under <see cref="Keys.Alarms"/> with
/// <c>alarm.raised</c> / <c>alarm.cleared</c> events in the same transaction; committed changes go to the
/// <see cref="AlarmSinks"/>. Every write compares on the leadership lease.
/// </summary>
public sealed class MonitorController : ILeaderController
{
    private readonly ClusterState _state;
    private readonly HeartbeatTable _heartbeats;
    private readonly MonitorOptions _options;
    private readonly ServerCertificates _certificates;
    private readonly AlarmSinks _sinks;
    private readonly CorralMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<MonitorController> _logger;
    private readonly AlarmBook _book;
    private readonly RestartWindow _restarts;
    private readonly AssignmentTracker? _cache;
    private HealthReport? _written;
    private bool _storeDownNotified;

    /// <param name="cache">
    /// The watch-fed state every server keeps for its agents; when given, passes read it instead of reading every
    /// service, replica and node from the store. Null reads the store each pass.
    /// </param>
    public MonitorController(ClusterState state, HeartbeatTable heartbeats, MonitorOptions options, ServerCertificates certificates, AlarmSinks sinks, CorralMetrics metrics, TimeProvider time, ILogger<MonitorController> logger, AssignmentTracker? cache = null)
    {
        _cache = cache;
        _state = state ?? throw new ArgumentNullException(nameof(state));
        _heartbeats = heartbeats ?? throw new ArgumentNullException(nameof(heartbeats));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _certificates = certificates ?? throw new ArgumentNullException(nameof(certificates));
        _sinks = sinks ?? throw new ArgumentNullException(nameof(sinks));
        _metrics = metrics ?? throw new ArgumentNullException(nameof(metrics));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _book = new AlarmBook { LastSeenResolution = options.LastSeenResolution };
        _restarts = new RestartWindow(options.CrashLoopWindow);
    }

    /// <inheritdoc />
    public string Name => "monitor";

    /// <inheritdoc />
    public Task EstablishAsync(LeadershipTerm term, CancellationToken cancellationToken)
    {
        _book.Reset();
        _restarts.Clear();
        _written = null;
        _storeDownNotified = false;
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task RunAsync(LeadershipTerm term, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await PassAsync(term, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is StoreException or IOException or HttpRequestException or JsonException)
            {
                MonitorLog.PassFailed(_logger, e);
            }
            try
            {
                await Task.Delay(_options.Interval, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <inheritdoc />
    public Task RevokeAsync(CancellationToken cancellationToken)
    {
        _metrics.SetHealth(null, null);
        return Task.CompletedTask;
    }

    /// <summary>One evaluation; returns what it found (after committing its changes, when the store answers).</summary>
    public async Task<HealthEvaluation> PassAsync(LeadershipTerm term, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(term);
        var now = _time.GetUtcNow();
        StoreHealth store;
        try
        {
            var status = await _state.Store.GetStatusAsync(cancellationToken).ConfigureAwait(false);
            store = new StoreHealth(true, [.. status.Members.Select(m => new StoreMemberHealth(m.Name, m.Healthy, m.Error))]);
        }
        catch (StoreException e)
        {
            store = new StoreHealth(false, [], e.Message);
        }
        if (!store.Healthy)
        {
            // Nothing else can be read or written: score and notify from memory.
            var down = HealthMonitor.Evaluate(new MonitorInput(now, [], [], [], store, [], _options.Thresholds));
            _metrics.SetHealth(down, null);
            if (!_storeDownNotified)
            {
                _storeDownNotified = true;
                var condition = down.Conditions.First(c => c.Kind == HealthMonitor.StoreUnreachable);
                _sinks.Post(new AlarmNotification("alarm.raised", new Alarm(condition.Id, condition.Kind, condition.Severity, condition.Subject, condition.Message, now, now, true), term.ServerName, now));
            }
            return down;
        }

        var cached = _cache is null ? null : await _cache.TrySnapshotAsync(0, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
        var snapshot = cached?.Snapshot ?? await _state.ReadAsync(cancellationToken).ConfigureAwait(false);
        var input = BuildInput(snapshot, store, now);
        var evaluation = HealthMonitor.Evaluate(input);

        var range = await _state.Store.RangeAsync(Keys.Alarms, null, cancellationToken).ConfigureAwait(false);
        var stored = new Dictionary<string, Alarm>(StringComparer.Ordinal);
        var revisions = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var kv in range.Kvs)
        {
            var alarm = JsonSerializer.Deserialize(kv.Value.Span, CoreJson.Default.Alarm)!;
            stored[alarm.Id] = alarm;
            revisions[alarm.Id] = kv.ModRevision;
        }
        var changes = _book.Apply(stored, evaluation.Conditions, now);
        var batcher = new TxnBatcher(term.StillLeading());
        var report = new HealthReport(evaluation.Score, evaluation.Inputs, now);
        if (_written is null || _written.Score != report.Score || _written.Inputs != report.Inputs)
        {
            batcher.Add([], [ClusterState.PutOp(Keys.Health, report, CoreJson.Default.HealthReport)]);
        }
        Compare Unchanged(string id) => revisions.TryGetValue(id, out var revision)
            ? Compare.ModRevision(Keys.Alarm(id), CompareOp.Equal, revision)
            : Compare.Missing(Keys.Alarm(id));
        foreach (var alarm in changes.Raised)
        {
            batcher.Add([Unchanged(alarm.Id)], [Put(alarm), _state.EventOp("alarm.raised", alarm.Subject, $"{Severity(alarm)} alarm {alarm.Id}: {alarm.Message}", term.Actor)]);
        }
        foreach (var alarm in changes.Cleared)
        {
            batcher.Add([Unchanged(alarm.Id)], [Put(alarm), _state.EventOp("alarm.cleared", alarm.Subject, $"alarm {alarm.Id} cleared after {Durations.Format(now - alarm.FirstSeen)}", term.Actor)]);
        }
        foreach (var alarm in changes.Updated)
        {
            batcher.Add([Unchanged(alarm.Id)], [Put(alarm)]);
        }
        foreach (var old in stored.Values.Where(a => !a.Active && now - a.LastSeen > _options.ClearedRetention))
        {
            batcher.Add([Unchanged(old.Id)], [new TxnOp.Delete(Keys.Alarm(old.Id))]);
        }

        var committed = true;
        foreach (var txn in batcher.Build())
        {
            var result = await _state.Store.TxnAsync(txn, cancellationToken).ConfigureAwait(false);
            if (!result.Succeeded)
            {
                committed = false;
                MonitorLog.CommitRefused(_logger);
                break;
            }
        }
        if (!committed)
        {
            // Start over from the store next pass: what was raised may not be there.
            _book.Reset();
            _written = null;
            _metrics.SetHealth(evaluation, stored.Values.ToList());
            return evaluation;
        }
        _written = report;
        _storeDownNotified = false;
        foreach (var alarm in changes.Raised)
        {
            MonitorLog.Raised(_logger, alarm.Id, Severity(alarm), alarm.Message);
            _sinks.Post(new AlarmNotification("alarm.raised", alarm, term.ServerName, now));
        }
        foreach (var alarm in changes.Cleared)
        {
            MonitorLog.Cleared(_logger, alarm.Id);
            _sinks.Post(new AlarmNotification("alarm.cleared", alarm, term.ServerName, now));
        }
        foreach (var alarm in changes.Raised.Concat(changes.Cleared).Concat(changes.Updated))
        {
            stored[alarm.Id] = alarm;
        }
        _metrics.SetHealth(evaluation, stored.Values.ToList());
        return evaluation;
    }

    private MonitorInput BuildInput(ClusterSnapshot snapshot, StoreHealth store, DateTimeOffset now)
    {
        var nodes = new List<NodeHealth>();
        var certificates = new List<CertificateHealth>(_certificates.Certificates);
        foreach (var node in snapshot.Nodes.Values.Select(v => v.Value))
        {
            var heartbeat = _heartbeats.Get(node.Name);
            nodes.Add(new NodeHealth(node.Name, node.Status == NodeStatus.Ready, node.StatusSince, heartbeat?.DiskUsedBytes, heartbeat?.DiskTotalBytes));
            if (heartbeat?.CertificateNotAfter is { } notAfter)
            {
                certificates.Add(new CertificateHealth("cert/node/" + node.Name, $"node {node.Name}'s client certificate", notAfter,
                    $"join the node again with a new token ('corral node token create', then 'corral agent --token …' on node {node.Name})."));
            }
        }
        var services = snapshot.Services.Values
            .Select(s => Views.Service(s.Value, snapshot, _heartbeats))
            .Select(v => new ServiceHealth(v.Spec.Name, v.Desired, v.Healthy))
            .ToList();
        var replicas = new List<ReplicaRestarts>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var replica in snapshot.Replicas.Values.Select(v => v.Value))
        {
            if (replica.Phase != ReplicaPhase.Assigned || replica.Node is null || _heartbeats.GetReplica(replica.Id) is not { Restarts: { } count })
            {
                continue;
            }
            seen.Add(replica.Id);
            replicas.Add(new ReplicaRestarts(replica.Id, replica.Service, replica.Node, _restarts.Observe(replica.Id, count, now)));
        }
        _restarts.Retain(seen);
        return new MonitorInput(now, nodes, services, replicas, store, certificates, _options.Thresholds);
    }

    private static TxnOp.Put Put(Alarm alarm) => ClusterState.PutOp(Keys.Alarm(alarm.Id), alarm, CoreJson.Default.Alarm);

    private static string Severity(Alarm alarm) => alarm.Severity.ToString().ToLowerInvariant();
}
