using Corral.Core.Api;
using Corral.Core.Cluster;
using Corral.Core.Services;
using Corral.Core.Tasks;
using Corral.Server.State;

namespace Corral.Server.Api;

/// <summary>Builds API views from a snapshot of cluster state.</summary>
internal static class Views
{
    public static ServiceView Service(ServiceSpec spec, ClusterSnapshot snapshot)
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
            [.. replicas.Select(Replica)]);
    }

    public static ReplicaView Replica(Replica replica) => new(replica, null, null, null, null, null);

    public static NodeView Node(Node node, ClusterSnapshot snapshot) =>
        new(node, null, snapshot.Replicas.Values.Count(r => r.Value.Node == node.Name && r.Value.Active), null, null, null);

    public static bool IsRunning(Replica r) =>
        r.Phase == ReplicaPhase.Assigned && r.State is ReplicaState.Running or ReplicaState.Healthy or ReplicaState.Unhealthy;
}
