using System.Security.Cryptography;
using Corral.Core;
using Corral.Core.Cluster;
using Corral.Core.Reconciliation;
using Corral.Core.Scheduling;
using Corral.Core.Services;
using Corral.Server.Leadership;
using Corral.Server.State;
using Corral.Store;

namespace Corral.Server.Controllers;

public sealed partial class ReconcileController
{
    /// <summary>Failed and lost replicas kept per service for people to inspect; older ones are deleted.</summary>
    internal const int KeptTerminalReplicas = 3;

    /// <summary>How long a pass waits for the in-memory cache to catch up with the store before it reads the store itself.</summary>
    private static readonly TimeSpan CacheCatchUpTimeout = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Takes a snapshot (from the in-memory cache once it has caught up with the store's current revision, otherwise
    /// from the store) and plans from it. A cache snapshot is as consistent as a store read: one revision, exact mod revisions.
    /// </summary>
    internal async Task<ReconcilePass> PlanAsync(LeadershipTerm term, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(term);
        if (_cache is not null)
        {
            // Read-your-writes: the cache must have applied everything the store had when this pass began.
            var current = await _state.Store.GetRevisionAsync(cancellationToken).ConfigureAwait(false);
            if (await _cache.TrySnapshotAsync(current, CacheCatchUpTimeout, cancellationToken).ConfigureAwait(false) is { } cached)
            {
                return BuildPass(term, cached.Snapshot, cached.VersionKeys, _state, _time.GetUtcNow(), NewReplicaId);
            }
        }
        var snapshot = await _state.ReadAsync(cancellationToken).ConfigureAwait(false);
        var versions = await _state.Store.RangeAsync(
            ServiceVersions.Prefix, new RangeOptions { KeysOnly = true, Revision = snapshot.Revision }, cancellationToken).ConfigureAwait(false);
        return BuildPass(term, snapshot, versions.Kvs.Select(kv => kv.Key), _state, _time.GetUtcNow(), NewReplicaId);
    }

    /// <summary>A replica id: the service name and 8 random hex digits.</summary>
    internal static string NewReplicaId(ServiceSpec service) => service.Name + "-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));

    /// <summary>
    /// Plans from <paramref name="snapshot"/> and turns the plan into transactions. Every change compares the mod
    /// revision of each key it was decided from (its replica, its service, its node; missing ones as missing), and
    /// every transaction compares the leader key's lease. A draining node with no active replica in the snapshot is marked
    /// drained (<see cref="Node.Draining"/> false, still ineligible). Changes are ordered: the service version records that new
    /// and newly placed replicas run, lost, stops, then creations and placements, so a placement that relied on freed
    /// capacity is only committed after the change that freed it, and no replica is committed without its version
    /// record even when the placements commit concurrently and some are refused.
    /// </summary>
    internal static ReconcilePass BuildPass(
        LeadershipTerm term,
        ClusterSnapshot snapshot,
        IEnumerable<string> versionKeys,
        ClusterState state,
        DateTimeOffset now,
        Func<ServiceSpec, string> newReplicaId)
    {
        var input = new ReconcileInput(
            [.. snapshot.Services.Values.Select(v => v.Value)],
            [.. snapshot.Replicas.Values.Select(v => v.Value).Where(r => r.Phase is ReplicaPhase.Pending or ReplicaPhase.Assigned or ReplicaPhase.Stopping)],
            [.. snapshot.Nodes.Values.Select(v => v.Value)],
            now);
        var planning = System.Diagnostics.Stopwatch.GetTimestamp();
        var plan = Reconciler.Plan(input, newReplicaId);
        Metrics.Instrumentation.SchedulerDuration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(planning).TotalSeconds);
        var placedCount = plan.Placements.Count(p => p is PlacementDecision.Placed);
        if (placedCount > 0)
        {
            Metrics.Instrumentation.SchedulerPlacements.Add(placedCount, new KeyValuePair<string, object?>("outcome", "placed"));
        }
        if (plan.Placements.Count > placedCount)
        {
            Metrics.Instrumentation.SchedulerPlacements.Add(plan.Placements.Count - placedCount, new KeyValuePair<string, object?>("outcome", "pending"));
        }
        var versions = new HashSet<string>(versionKeys, StringComparer.Ordinal);
        var batcher = new TxnBatcher(term.StillLeading(), () => new TxnOp.Get(term.Key));
        var actor = term.Actor;
        int placed = 0, pending = 0, stopping = 0, deleted = 0, lost = 0;

        Compare ServiceCompare(string name) => ServiceCompareOf(snapshot, name);
        Compare NodeCompare(string name) => NodeCompareOf(snapshot, name);
        List<Compare> CompareExisting(Versioned<Replica> replica) => KeyCompares(snapshot, replica);
        TxnOp Event(string kind, Replica replica, string message, string? node = null) => state.ReplicaEventOp(kind, replica, message, actor, node);

        // Version records first, in the ordered part: a placement transaction may commit while another is refused.
        var placedExisting = plan.Placements.OfType<PlacementDecision.Placed>()
            .Select(p => snapshot.Replicas.GetValueOrDefault(p.ReplicaId)?.Value)
            .OfType<Replica>();
        foreach (var replica in plan.Create.Concat(placedExisting))
        {
            if (snapshot.Services.TryGetValue(replica.Service, out var service) && service.Value.Version == replica.Version
                && versions.Add(ServiceVersions.Key(replica.Service, replica.Version)))
            {
                batcher.Add([ServiceCompare(replica.Service)], [ServiceVersions.PutOp(service.Value)]);
            }
        }

        foreach (var action in plan.Lost)
        {
            var replica = snapshot.Replicas[action.ReplicaId];
            // Kept as lost for people to see (housekeeping deletes all but the newest few); a node that comes back
            // finds it absent from its assignments and stops it.
            batcher.Add(CompareExisting(replica), [
                State.ClusterState.PutReplica(replica.Value with { Phase = ReplicaPhase.Lost, Reason = action.Reason }),
                Event("replica.lost", replica.Value, action.Reason),
            ]);
            lost++;
        }

        foreach (var action in plan.Stop)
        {
            var replica = snapshot.Replicas[action.ReplicaId];
            var r = replica.Value;
            if (r.Phase == ReplicaPhase.Pending || r.Node is null || !snapshot.Nodes.ContainsKey(r.Node))
            {
                // Nothing runs it (never placed, or its node is gone): no node will confirm a stop.
                batcher.Add(CompareExisting(replica), [new TxnOp.Delete(Keys.Replica(r.Id)), Event("replica.stopped", r, action.Reason)]);
                deleted++;
            }
            else
            {
                batcher.Add(CompareExisting(replica), [
                    State.ClusterState.PutReplica(r with { Phase = ReplicaPhase.Stopping, Reason = action.Reason }),
                    Event("replica.stopping", r, $"stopping on node {r.Node}: {action.Reason}"),
                ]);
                stopping++;
            }
        }

        // Stopping replicas whose node can no longer confirm the stop, and old terminal replicas.
        foreach (var (compares, ops) in Housekeeping(snapshot, now, Event))
        {
            batcher.Add(compares, ops);
            deleted++;
        }

        // Draining nodes with no active replica left are drained: still ineligible, no longer draining.
        foreach (var node in snapshot.Nodes.Values)
        {
            var name = node.Value.Name;
            if (node.Value.Draining && !snapshot.Replicas.Values.Any(r => r.Value.Node == name && r.Value.Active))
            {
                batcher.Add([NodeCompare(name)], [
                    State.ClusterState.PutNode(node.Value with { Draining = false, Eligible = false }),
                    state.EventOp("node.drained", "node/" + name, $"node {name} drained: no replicas left; ineligible until undrained", actor),
                ]);
            }
        }

        var ordered = batcher.Build();
        batcher = new TxnBatcher(term.StillLeading(), () => new TxnOp.Get(term.Key));
        var created = plan.Create.ToDictionary(r => r.Id, StringComparer.Ordinal);
        var decisions = plan.Placements.ToDictionary(p => p.ReplicaId, StringComparer.Ordinal);
        var createdRevision = snapshot.Revision + 1;
        foreach (var replica in plan.Create)
        {
            var decision = decisions.GetValueOrDefault(replica.Id);
            var ops = new List<TxnOp>(2);
            var compares = new List<Compare>(3) { Compare.Missing(Keys.Replica(replica.Id)), ServiceCompare(replica.Service) };
            if (decision is PlacementDecision.Placed p)
            {
                compares.Add(NodeCompare(p.Node));
                ops.Add(State.ClusterState.PutReplica(replica with { Phase = ReplicaPhase.Assigned, Node = p.Node, CreatedRevision = createdRevision, Reason = "" }));
                ops.Add(Event("replica.placed", replica, $"placed on node {p.Node}", p.Node));
                placed++;
            }
            else
            {
                var reason = (decision as PlacementDecision.Unplaced)?.Reason ?? "not yet scheduled";
                ops.Add(State.ClusterState.PutReplica(replica with { CreatedRevision = createdRevision, Reason = reason }));
                ops.Add(Event("replica.pending", replica, reason));
                pending++;
            }
            batcher.Add(compares, ops);
        }

        foreach (var decision in plan.Placements)
        {
            if (created.ContainsKey(decision.ReplicaId) || !snapshot.Replicas.TryGetValue(decision.ReplicaId, out var replica))
            {
                continue;
            }
            var r = replica.Value;
            var compares = CompareExisting(replica);
            var ops = new List<TxnOp>(3);
            switch (decision)
            {
                case PlacementDecision.Placed p:
                    if (r.Node is null || r.Node != p.Node)
                    {
                        compares.Add(NodeCompare(p.Node));
                    }
                    ops.Add(State.ClusterState.PutReplica(r with { Phase = ReplicaPhase.Assigned, Node = p.Node, Reason = "" }));
                    ops.Add(Event("replica.placed", r, $"placed on node {p.Node}", p.Node));
                    placed++;
                    break;
                case PlacementDecision.Unplaced u when u.Reason != r.Reason:
                    ops.Add(State.ClusterState.PutReplica(r with { Reason = u.Reason }));
                    ops.Add(Event("replica.pending", r, u.Reason));
                    pending++;
                    break;
                default:
                    continue;
            }
            batcher.Add(compares, ops);
        }

        return new ReconcilePass(snapshot, plan, [.. ordered, .. batcher.Build()], ordered.Count, placed, pending, stopping, deleted, lost);
    }

    private static IEnumerable<(List<Compare> Compares, List<TxnOp> Ops)> Housekeeping(
        ClusterSnapshot snapshot, DateTimeOffset now, Func<string, Replica, string, string?, TxnOp> evt)
    {
        foreach (var replica in snapshot.Replicas.Values)
        {
            var r = replica.Value;
            if (r.Phase != ReplicaPhase.Stopping || r.Node is null)
            {
                continue;
            }
            var eviction = snapshot.Services.TryGetValue(r.Service, out var service) ? service.Value.EvictionTimeout : ServiceSpec.DefaultEvictionTimeout;
            string? why = null;
            if (!snapshot.Nodes.TryGetValue(r.Node, out var node))
            {
                why = $"node {r.Node} was removed before it confirmed the stop";
            }
            else if (node.Value.Status == NodeStatus.Down && now - node.Value.StatusSince >= eviction)
            {
                why = $"node {r.Node} down for {Durations.Format(now - node.Value.StatusSince)} before it confirmed the stop";
            }
            if (why is not null)
            {
                yield return (KeyCompares(snapshot, replica), [new TxnOp.Delete(Keys.Replica(r.Id)), evt("replica.stopped", r, why, null)]);
            }
        }

        var terminal = snapshot.Replicas.Values
            .Where(v => v.Value.Phase is ReplicaPhase.Failed or ReplicaPhase.Lost or ReplicaPhase.Stopped)
            .GroupBy(v => v.Value.Service, StringComparer.Ordinal);
        foreach (var group in terminal)
        {
            var keep = snapshot.Services.ContainsKey(group.Key) ? KeptTerminalReplicas : 0;
            foreach (var replica in group.OrderByDescending(v => v.Value.CreatedRevision).ThenByDescending(v => v.ModRevision).Skip(keep))
            {
                yield return ([Compare.ModRevision(Keys.Replica(replica.Value.Id), CompareOp.Equal, replica.ModRevision)], [new TxnOp.Delete(Keys.Replica(replica.Value.Id))]);
            }
        }
    }

    private static List<Compare> KeyCompares(ClusterSnapshot snapshot, Versioned<Replica> replica)
    {
        var r = replica.Value;
        var compares = new List<Compare>(3)
        {
            Compare.ModRevision(Keys.Replica(r.Id), CompareOp.Equal, replica.ModRevision),
            ServiceCompareOf(snapshot, r.Service),
        };
        if (r.Node is { } node)
        {
            compares.Add(NodeCompareOf(snapshot, node));
        }
        return compares;
    }

    private static Compare ServiceCompareOf(ClusterSnapshot snapshot, string name) => snapshot.Services.TryGetValue(name, out var s)
        ? Compare.ModRevision(Keys.Service(name), CompareOp.Equal, s.ModRevision)
        : Compare.Missing(Keys.Service(name));

    private static Compare NodeCompareOf(ClusterSnapshot snapshot, string name) => snapshot.Nodes.TryGetValue(name, out var n)
        ? Compare.ModRevision(Keys.Node(name), CompareOp.Equal, n.ModRevision)
        : Compare.Missing(Keys.Node(name));
}
