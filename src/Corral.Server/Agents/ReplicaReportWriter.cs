using System.Text.Json;
using Corral.Core;
using Corral.Core.Api;
using Corral.Core.Cluster;
using Corral.Core.Tasks;
using Corral.Server.Controllers;
using Corral.Server.State;
using Corral.Store;
using Microsoft.Extensions.Logging;

namespace Corral.Server.Agents;

/// <summary>
/// Turns the replica reports a node sends into store writes, only when they change something: a new state or reason
/// of an assigned replica (with <c>replica.STATE</c> events when the state changes), <see cref="ReplicaPhase.Failed"/>
/// for a replica the node gave up on, and the deletion of a stopping replica once its node reports it ended (exited or
/// failed) or no longer reports it at all.
/// Reports about replicas that are not on the reporting node are ignored.
/// </summary>
public sealed class ReplicaReportWriter
{
    private const int MaxAttempts = 5;

    private readonly ClusterState _state;
    private readonly AssignmentTracker _tracker;
    private readonly ILogger<ReplicaReportWriter> _logger;

    public ReplicaReportWriter(ClusterState state, AssignmentTracker tracker, ILogger<ReplicaReportWriter> logger)
    {
        _state = state ?? throw new ArgumentNullException(nameof(state));
        _tracker = tracker ?? throw new ArgumentNullException(nameof(tracker));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    /// <summary>
    /// Writes what the reports change; returns the number of replicas written. Reports that change nothing cost no
    /// store write. <paramref name="reports"/> is the node's whole runtime: a stopping replica of the node that is
    /// not in it has been stopped (the agent stops and forgets a replica once it leaves the node's assignments).
    /// </summary>
    public async Task<int> ApplyAsync(string node, IReadOnlyList<ReplicaReport> reports, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(node);
        ArgumentNullException.ThrowIfNull(reports);
        var reported = reports.Select(r => r.ReplicaId).ToHashSet(StringComparer.Ordinal);
        var gone = _tracker.StoppingOn(node)
            .Where(id => !reported.Contains(id))
            .Select(id => new ReplicaReport(id, ReplicaState.Exited, DateTimeOffset.MinValue, "no longer run by the node", null, null, null, null, null));
        // The tracker (a watch behind the store by moments) filters out the steady state without a store read.
        var candidates = reports
            .GroupBy(r => r.ReplicaId, StringComparer.Ordinal)
            .Select(g => g.Last())
            .Concat(gone)
            .Where(r => _tracker.GetReplica(r.ReplicaId) is { } known && known.Value.Node == node && Transition(known.Value, r, node) is not null)
            .ToList();
        var written = 0;
        for (var attempt = 0; attempt < MaxAttempts && candidates.Count > 0; attempt++)
        {
            var batcher = new TxnBatcher(guard: null);
            foreach (var report in candidates)
            {
                var kv = await _state.Store.GetAsync(Keys.Replica(report.ReplicaId), cancellationToken).ConfigureAwait(false);
                if (kv is null)
                {
                    continue;
                }
                var replica = JsonSerializer.Deserialize(kv.Value.Span, CoreJson.Default.Replica)!;
                if (replica.Node != node || Transition(replica, report, node) is not { } change)
                {
                    continue;
                }
                batcher.Add([Compare.ModRevision(kv.Key, CompareOp.Equal, kv.ModRevision)], change);
            }
            var conflict = false;
            foreach (var txn in batcher.Build())
            {
                var result = await _state.Store.TxnAsync(txn, cancellationToken).ConfigureAwait(false);
                if (result.Succeeded)
                {
                    written += txn.Success.Count(op => op is TxnOp.Delete || (op is TxnOp.Put p && p.Key.StartsWith(Keys.Replicas, StringComparison.Ordinal)));
                }
                else
                {
                    conflict = true;
                }
            }
            if (!conflict)
            {
                return written;
            }
        }
        if (candidates.Count > 0)
        {
            AgentsLog.ReportsConflict(_logger, node, candidates.Count);
        }
        return written;
    }

    /// <summary>The writes a report calls for, or null when it changes nothing.</summary>
    private List<TxnOp>? Transition(Replica replica, ReplicaReport report, string node)
    {
        var key = Keys.Replica(replica.Id);
        var actor = "node:" + node;
        var detail = string.IsNullOrEmpty(report.Reason) ? "" : ": " + report.Reason;
        if (replica.Phase == ReplicaPhase.Stopping)
        {
            if (report.State is ReplicaState.Exited or ReplicaState.Failed)
            {
                var exit = report.ExitCode is { } code ? $" (exit code {code})" : "";
                var how = report.Since == DateTimeOffset.MinValue ? $": {report.Reason}" : exit;
                return [new TxnOp.Delete(key), _state.ReplicaEventOp("replica.stopped", replica, $"stopped on node {node}{how}", actor)];
            }
            return null;
        }
        if (replica.Phase != ReplicaPhase.Assigned)
        {
            return null;
        }
        if (report.State == ReplicaState.Failed)
        {
            return [
                ClusterState.PutReplica(replica with { Phase = ReplicaPhase.Failed, State = ReplicaState.Failed, Reason = report.Reason ?? "" }),
                _state.ReplicaEventOp("replica.failed", replica, $"failed on node {node}{detail}", actor),
            ];
        }
        if (replica.State == report.State && replica.Reason == (report.Reason ?? ""))
        {
            return null;
        }
        List<TxnOp> ops = [ClusterState.PutReplica(replica with { State = report.State, Reason = report.Reason ?? "" })];
        if (replica.State != report.State)
        {
            ops.Add(_state.ReplicaEventOp("replica." + report.State.ToString().ToLowerInvariant(), replica, $"{report.State.ToString().ToLowerInvariant()} on node {node}{detail}", actor));
        }
        return ops;
    }
}
