using Corral.Core.Api;
using Corral.Core.Cluster;

namespace Corral.Cli;

/// <summary>
/// How far one service of a deploy has converged: every desired replica runs the service's current version and is
/// healthy (<see cref="ReplicaState.Healthy"/>: running and its health check passes, or it has none), and no other
/// replica is still assigned (an old version not yet replaced, a surplus one after scaling down). Replicas already
/// told to stop do not hold a deploy up.
/// </summary>
/// <param name="Service">The service's name.</param>
/// <param name="Desired">Replicas wanted.</param>
/// <param name="Ready">Replicas of the current version that are healthy.</param>
/// <param name="NotReady">One line per reason the service is not converged, naming replicas and why.</param>
internal sealed record DeployProgress(string Service, int Desired, int Ready, IReadOnlyList<string> NotReady)
{
    public bool Done => NotReady.Count == 0;

    /// <summary>Progress of a service that no longer exists (removed while the deploy was being watched).</summary>
    public static DeployProgress Missing(string service) => new(service, 0, 0, ["the service no longer exists"]);

    public static DeployProgress Of(ServiceView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        var current = view.Version;
        var replicas = view.Replicas.Select(r => r.Replica).ToList();
        var ready = replicas.Count(r => r.Version == current && r.Healthy);
        var notReady = new List<string>();

        // Replicas of the current version that are wanted but not healthy yet, with what the control plane says.
        var waiting = replicas.Where(r => r.Version == current && !r.Healthy && r.Phase is ReplicaPhase.Pending or ReplicaPhase.Assigned or ReplicaPhase.Failed).ToList();
        foreach (var replica in waiting)
        {
            notReady.Add(Describe(replica));
        }
        // Replicas told to stop (phase Stopping) no longer count: they are on their way out. Still-assigned replicas of
        // an old version mean the rolling update has not finished; assigned ones beyond the count, a scale-down.
        var old = replicas.Where(r => r.Version != current && r.Phase == ReplicaPhase.Assigned).ToList();
        var unborn = view.Desired - ready - waiting.Count(r => r.Phase != ReplicaPhase.Failed);
        if (unborn > 0)
        {
            var why = old.Count > 0
                ? "an update replaces replicas one at a time, each healthy before the next"
                : "the leader places replicas; is a server leading?";
            notReady.Add($"{unborn} replica{(unborn == 1 ? " is" : "s are")} not created yet ({why})");
        }
        foreach (var replica in old)
        {
            notReady.Add($"{replica.Id}: old version {replica.Version} still {Show.ReplicaState(replica)} on {replica.Node ?? "?"} (being replaced)");
        }
        var surplus = replicas.Count(r => r.Version == current && r.Phase == ReplicaPhase.Assigned) - view.Desired;
        if (surplus > 0)
        {
            notReady.Add($"{surplus} surplus replica{(surplus == 1 ? " is" : "s are")} still running (scaling down)");
        }
        if (ready < view.Desired && notReady.Count == 0)
        {
            notReady.Add($"{view.Desired - ready} replica{(view.Desired - ready == 1 ? "" : "s")} not healthy yet");
        }
        return new DeployProgress(view.Spec.Name, view.Desired, ready, notReady);
    }

    private static string Describe(Replica replica)
    {
        var reason = replica.Reason.Length > 0 ? ": " + replica.Reason : "";
        return replica.Phase switch
        {
            ReplicaPhase.Pending => $"{replica.Id}: pending{(reason.Length > 0 ? reason : ": not placed yet")}",
            ReplicaPhase.Failed => $"{replica.Id}: failed on {replica.Node ?? "?"}{reason}",
            _ => $"{replica.Id}: {Show.ReplicaState(replica)} on {replica.Node ?? "?"}{reason}",
        };
    }
}
