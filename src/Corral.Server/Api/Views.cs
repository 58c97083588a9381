using Corral.Core.Api;
using Corral.Core.Cluster;
using Corral.Core.Services;
using Corral.Core.Tasks;
using Corral.Server.Controllers;
using Corral.Server.State;

namespace Corral.Server.Api;

/// <summary>
/// Builds API views from a snapshot of cluster state and what the nodes last reported (pids, ports, stats, last
/// heartbeat), to this server or, relayed in digests, to another one (see HeartbeatTable); those reported
/// fields are null until the node has reported to some server.
/// </summary>
internal static class Views
{
    public static ServiceView Service(ServiceSpec spec, ClusterSnapshot snapshot, HeartbeatTable heartbeats)
    {
        var replicas = snapshot.Replicas.Values.Select(v => v.Value).Where(r => r.Service == spec.Name)
            .OrderBy(r => r.CreatedRevision).ThenBy(r => r.Id, StringComparer.Ordinal).ToList();
        var desired = spec.Mode == ServiceMode.Global
            ? snapshot.Nodes.Values.Count(n => n.Value.Schedulable)
            : spec.Replicas;
        return new ServiceView(
            spec,
            spec.Version,
            desired,
            replicas.Count(IsRunning),
            replicas.Count(r => r.Healthy),
            replicas.Count(r => r.Phase == ReplicaPhase.Pending),
            [.. replicas.Select(r => Replica(r, heartbeats))]);
    }

    public static ReplicaView Replica(Replica replica, HeartbeatTable heartbeats)
    {
        // A report is only shown for the node the replica is on (a stale one from a former node is not).
        var report = replica.Node is not null && replica.Active ? heartbeats.GetReplica(replica.Id) : null;
        return report is null
            ? new(replica, null, null, null, null, null)
            : new(replica, report.Pid, report.Ports, report.Since, report.CpuPercent, report.RssBytes);
    }

    public static NodeView Node(Node node, ClusterSnapshot snapshot, HeartbeatTable heartbeats)
    {
        var heartbeat = heartbeats.Get(node.Name);
        return new(node, heartbeat?.LastSeen, snapshot.Replicas.Values.Count(r => r.Value.Node == node.Name && r.Value.Active),
            heartbeat?.CpuPercent, heartbeat?.MemoryUsedBytes, heartbeat?.Load1, heartbeat?.DiskUsedBytes, heartbeat?.DiskTotalBytes);
    }

    public static bool IsRunning(Replica r) =>
        r.Phase == ReplicaPhase.Assigned && r.State is ReplicaState.Running or ReplicaState.Healthy or ReplicaState.Unhealthy;
}
