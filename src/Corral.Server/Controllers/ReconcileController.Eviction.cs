using Corral.Core.Cluster;
using Corral.Core.Services;
using Corral.Server.State;

namespace Corral.Server.Controllers;

public sealed partial class ReconcileController
{
    /// <summary>
    /// The earliest moment after <paramref name="now"/> at which a replica in <paramref name="snapshot"/> falls due for
    /// eviction (its node down for its service's eviction timeout), or null when none will. The loop wakes then instead
    /// of at its next interval, so a lost node's work moves as soon as the timeout is over.
    /// </summary>
    internal static DateTimeOffset? NextEviction(ClusterSnapshot snapshot, DateTimeOffset now)
    {
        DateTimeOffset? next = null;
        foreach (var replica in snapshot.Replicas.Values)
        {
            var r = replica.Value;
            if (r.Phase is not (ReplicaPhase.Assigned or ReplicaPhase.Stopping) || r.Node is null
                || !snapshot.Nodes.TryGetValue(r.Node, out var node) || node.Value.Status != NodeStatus.Down)
            {
                continue;
            }
            var eviction = snapshot.Services.TryGetValue(r.Service, out var service) ? service.Value.EvictionTimeout : ServiceSpec.DefaultEvictionTimeout;
            var due = node.Value.StatusSince + eviction;
            if (due > now && (next is null || due < next))
            {
                next = due;
            }
        }
        return next;
    }
}
