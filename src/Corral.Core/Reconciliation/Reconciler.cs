using Corral.Core.Cluster;
using Corral.Core.Scheduling;
using Corral.Core.Services;

namespace Corral.Core.Reconciliation;

/// <summary>
/// Compares desired services with their replicas and produces a <see cref="ReconcilePlan"/>. Pure: the same input
/// gives the same plan (given the same id generator).
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Replicas on a node down longer than the service's eviction timeout are lost, and replaced.</item>
/// <item>Replicas of a removed service are stopped.</item>
/// <item>A replica needs replacing when it runs an old version or sits on a draining node. Replacement is one at a
/// time per service: a new replica is created only while no other new one is still unhealthy, and an old one is
/// stopped only once a new one is healthy, so healthy replicas never drop below the desired count minus one.</item>
/// <item>With nothing to replace, missing replicas are created and extra ones stopped, pending first, then
/// unhealthy, then the newest.</item>
/// <item>Pending replicas, old and new, are (re)submitted to the scheduler in the same pass.</item>
/// <item>A singleton (<c>replicas: 1</c>) never runs twice: an outdated one (new version, draining node) is stopped
/// first, and no replica is created while one of the service may still run (stopping on a node that is not removed
/// and not down past the eviction timeout).</item>
/// </list>
/// </remarks>
public static class Reconciler
{
    public static ReconcilePlan Plan(ReconcileInput input, Func<ServiceSpec, string> newReplicaId)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(newReplicaId);
        var nodes = input.Nodes.ToDictionary(n => n.Name, StringComparer.Ordinal);
        var services = input.Services.ToDictionary(s => s.Name, StringComparer.Ordinal);
        var create = new List<Replica>();
        var stop = new List<StopAction>();
        var lost = new List<LostAction>();
        var requests = new List<PlacementRequest>();
        var gone = new HashSet<string>(StringComparer.Ordinal);

        foreach (var replica in input.Replicas)
        {
            if (!services.TryGetValue(replica.Service, out var service))
            {
                if (replica.Phase != ReplicaPhase.Stopping)
                {
                    stop.Add(new StopAction(replica.Id, replica.Service, "service removed"));
                }
                gone.Add(replica.Id);
                continue;
            }
            if (replica.Phase == ReplicaPhase.Assigned && replica.Node is { } nodeName
                && (!nodes.TryGetValue(nodeName, out var node)
                    || (node.Status == NodeStatus.Down && input.Now - node.StatusSince >= service.EvictionTimeout)))
            {
                var why = node is null
                    ? $"node {nodeName} was removed"
                    : $"node {nodeName} down for {Durations.Format(input.Now - node.StatusSince)} (eviction_timeout {Durations.Format(service.EvictionTimeout)})";
                lost.Add(new LostAction(replica.Id, replica.Service, nodeName, why));
                gone.Add(replica.Id);
            }
        }

        var byService = input.Replicas
            .Where(r => !gone.Contains(r.Id) && r.Phase is ReplicaPhase.Pending or ReplicaPhase.Assigned)
            .GroupBy(r => r.Service, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);

        foreach (var service in input.Services)
        {
            var replicas = byService.GetValueOrDefault(service.Name) ?? [];
            if (service.Mode == ServiceMode.Global)
            {
                PlanGlobal(service, replicas, input.Nodes, create, stop, newReplicaId);
            }
            else if (service.IsSingleton)
            {
                var mayStillRun = input.Replicas.Any(r => r.Service == service.Name && r.Phase == ReplicaPhase.Stopping && !gone.Contains(r.Id)
                    && r.Node is { } n && nodes.TryGetValue(n, out var node)
                    && !(node.Status == NodeStatus.Down && input.Now - node.StatusSince >= service.EvictionTimeout));
                PlanSingleton(service, replicas, nodes, mayStillRun, create, stop, newReplicaId);
            }
            else
            {
                PlanReplicated(service, replicas, nodes, create, stop, newReplicaId);
            }
        }

        var stopping = stop.Select(s => s.ReplicaId).ToHashSet(StringComparer.Ordinal);
        foreach (var replica in input.Replicas.Concat(create))
        {
            if (replica.Phase == ReplicaPhase.Pending && !gone.Contains(replica.Id) && !stopping.Contains(replica.Id)
                && services.TryGetValue(replica.Service, out var service))
            {
                requests.Add(new PlacementRequest(service, replica.Id, service.Mode == ServiceMode.Global ? replica.Node : null));
            }
        }

        var active = input.Replicas.Where(r => !gone.Contains(r.Id) && r.Active).ToList();
        var placements = requests.Count == 0 ? [] : Scheduler.Place(input.Nodes, active, requests);
        return new ReconcilePlan(create, placements, stop, lost);
    }

    /// <summary>Stop first, then start: the replacement is created once no replica of the service may still run.</summary>
    private static void PlanSingleton(
        ServiceSpec service,
        List<Replica> replicas,
        Dictionary<string, Node> nodes,
        bool mayStillRun,
        List<Replica> create,
        List<StopAction> stop,
        Func<ServiceSpec, string> newReplicaId)
    {
        var outdated = replicas.Where(r => NeedsReplacing(r, service, nodes)).ToList();
        var current = replicas.Where(r => !NeedsReplacing(r, service, nodes)).ToList();
        foreach (var replica in outdated)
        {
            stop.Add(new StopAction(replica.Id, service.Name, Why(replica, service, nodes) + " (a singleton stops before its replacement starts)"));
        }
        foreach (var replica in StopOrder(current).Take(Math.Max(0, current.Count - 1)))
        {
            stop.Add(new StopAction(replica.Id, service.Name, "scaled down to 1"));
        }
        if (current.Count == 0 && outdated.Count == 0 && !mayStillRun)
        {
            create.Add(NewReplica(service, newReplicaId));
        }
    }

    private static void PlanReplicated(
        ServiceSpec service,
        List<Replica> replicas,
        Dictionary<string, Node> nodes,
        List<Replica> create,
        List<StopAction> stop,
        Func<ServiceSpec, string> newReplicaId)
    {
        var desired = service.Replicas;
        var outdated = replicas.Where(r => NeedsReplacing(r, service, nodes)).ToList();
        var current = replicas.Where(r => !NeedsReplacing(r, service, nodes)).ToList();

        if (outdated.Count > 0)
        {
            var healthyNew = current.Count(r => r.Healthy);
            var startingNew = current.Count - healthyNew;

            // Old replicas beyond what healthy new ones have not yet covered can go: pending and unhealthy first.
            var excessOld = outdated.Count + healthyNew - desired;
            foreach (var replica in StopOrder(outdated).Take(Math.Max(0, excessOld)))
            {
                stop.Add(new StopAction(replica.Id, service.Name, Why(replica, service, nodes)));
            }
            var remainingOld = outdated.Count - Math.Max(0, Math.Min(excessOld, outdated.Count));
            var missing = desired - remainingOld - current.Count;
            if (missing > 0)
            {
                // Scaled up during an update: the extra replicas are added at once, not one by one.
                for (var i = 0; i < missing; i++)
                {
                    create.Add(NewReplica(service, newReplicaId));
                }
            }
            else if (startingNew == 0 && current.Count < desired)
            {
                // One replacement at a time, started beside the old replicas (a surge of one).
                create.Add(NewReplica(service, newReplicaId));
            }
            if (current.Count > desired)
            {
                foreach (var replica in StopOrder(current).Take(current.Count - desired))
                {
                    stop.Add(new StopAction(replica.Id, service.Name, $"scaled down to {desired}"));
                }
            }
            return;
        }

        if (current.Count < desired)
        {
            for (var i = current.Count; i < desired; i++)
            {
                create.Add(NewReplica(service, newReplicaId));
            }
        }
        else if (current.Count > desired)
        {
            foreach (var replica in StopOrder(current).Take(current.Count - desired))
            {
                stop.Add(new StopAction(replica.Id, service.Name, $"scaled down to {desired}"));
            }
        }
    }

    private static void PlanGlobal(
        ServiceSpec service,
        List<Replica> replicas,
        IReadOnlyList<Node> nodes,
        List<Replica> create,
        List<StopAction> stop,
        Func<ServiceSpec, string> newReplicaId)
    {
        var onNode = replicas.Where(r => r.Node is not null).GroupBy(r => r.Node!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var updating = false;
        foreach (var node in nodes)
        {
            var here = onNode.GetValueOrDefault(node.Name) ?? [];
            var wanted = node.Schedulable && Scheduler.Fits(node, service.Placement);
            if (!wanted)
            {
                // A down node keeps its replica until eviction (handled as lost); a drained or non-matching one stops it.
                if (node.Status == NodeStatus.Ready)
                {
                    foreach (var replica in here)
                    {
                        stop.Add(new StopAction(replica.Id, service.Name, node.Eligible ? $"node {node.Name} no longer matches the placement" : $"node {node.Name} drained"));
                    }
                }
                continue;
            }
            var current = here.Where(r => r.Version == service.Version).ToList();
            var old = here.Where(r => r.Version != service.Version).ToList();
            foreach (var extra in StopOrder(current).Take(Math.Max(0, current.Count - 1)))
            {
                stop.Add(new StopAction(extra.Id, service.Name, "more than one replica of a global service on the node"));
            }
            if (current.Count == 0 && old.Count == 0)
            {
                create.Add(NewReplica(service, newReplicaId) with { Node = node.Name });
            }
            else if (old.Count > 0)
            {
                if (current.Any(r => r.Healthy))
                {
                    foreach (var replica in old)
                    {
                        stop.Add(new StopAction(replica.Id, service.Name, $"replaced by version {service.Version}"));
                    }
                }
                else if (current.Count == 0 && !updating)
                {
                    // One node at a time: the new replica starts beside the old one and replaces it once healthy.
                    updating = true;
                    create.Add(NewReplica(service, newReplicaId) with { Node = node.Name });
                }
                else
                {
                    updating = true;
                }
            }
        }
    }

    private static bool NeedsReplacing(Replica replica, ServiceSpec service, Dictionary<string, Node> nodes) =>
        replica.Version != service.Version
        || (replica.Node is { } n && nodes.TryGetValue(n, out var node) && node.Draining);

    private static string Why(Replica replica, ServiceSpec service, Dictionary<string, Node> nodes) =>
        replica.Version != service.Version
            ? $"replaced by version {service.Version}"
            : $"moved off draining node {replica.Node}";

    /// <summary>Pending first, then not healthy, then the newest.</summary>
    private static IEnumerable<Replica> StopOrder(IEnumerable<Replica> replicas) =>
        replicas.OrderBy(r => r.Phase == ReplicaPhase.Pending ? 0 : r.Healthy ? 2 : 1)
            .ThenByDescending(r => r.CreatedRevision)
            .ThenByDescending(r => r.Id, StringComparer.Ordinal);

    private static Replica NewReplica(ServiceSpec service, Func<ServiceSpec, string> newReplicaId) => new()
    {
        Id = newReplicaId(service),
        Service = service.Name,
        Version = service.Version,
        Phase = ReplicaPhase.Pending,
        CpuCores = service.Task.Resources.Cpu ?? 0,
        MemoryBytes = service.Task.Resources.MemoryBytes ?? 0,
        PortCount = service.Task.Ports.Count,
    };
}
