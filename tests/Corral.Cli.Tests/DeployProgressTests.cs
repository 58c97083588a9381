using Corral.Core.Api;
using Corral.Core.Cluster;
using Corral.Core.Services;
using Corral.Core.Tasks;

namespace Corral.Cli.Tests;

public sealed class DeployProgressTests
{
    private static readonly ServiceSpec Web = new()
    {
        Name = "web",
        Stack = "shop",
        Task = new TaskSpec { Command = "/bin/sleep", Args = ["60"] },
        Replicas = 3,
    };

    private static Replica Replica(string id, string version, ReplicaPhase phase, ReplicaState? state = null, string? node = "a", string reason = "") =>
        new() { Id = id, Service = "web", Version = version, Phase = phase, State = state, Node = node, Reason = reason };

    private static ServiceView View(int desired, params Replica[] replicas) =>
        new(Web with { Replicas = desired }, Web.Version, desired, 0, 0, 0, [.. replicas.Select(r => new ReplicaView(r, null, null, null, null, null))]);

    [Fact]
    public void Of_AllCurrentAndHealthy_IsDone()
    {
        var v = Web.Version;

        var progress = DeployProgress.Of(View(2, Replica("web-1", v, ReplicaPhase.Assigned, ReplicaState.Healthy), Replica("web-2", v, ReplicaPhase.Assigned, ReplicaState.Healthy)));

        Assert.True(progress.Done);
        Assert.Equal(2, progress.Ready);
    }

    [Fact]
    public void Of_PendingAndUnhealthy_NamesEachWithItsReason()
    {
        var v = Web.Version;

        var progress = DeployProgress.Of(View(3,
            Replica("web-1", v, ReplicaPhase.Assigned, ReplicaState.Healthy),
            Replica("web-2", v, ReplicaPhase.Pending, node: null, reason: "0 of 2 nodes have 512M free"),
            Replica("web-3", v, ReplicaPhase.Assigned, ReplicaState.Unhealthy, reason: "http /health: 503")));

        Assert.False(progress.Done);
        Assert.Equal(1, progress.Ready);
        Assert.Equal(["web-2: pending: 0 of 2 nodes have 512M free", "web-3: unhealthy on a: http /health: 503"], progress.NotReady);
    }

    [Fact]
    public void Of_OldVersionStillAssigned_IsNotDone_OnceStoppingItIs()
    {
        var v = Web.Version;

        var running = DeployProgress.Of(View(1,
            Replica("web-new", v, ReplicaPhase.Assigned, ReplicaState.Healthy),
            Replica("web-old", "0123456789ab", ReplicaPhase.Assigned, ReplicaState.Healthy)));
        var stopping = DeployProgress.Of(View(1,
            Replica("web-new", v, ReplicaPhase.Assigned, ReplicaState.Healthy),
            Replica("web-old", "0123456789ab", ReplicaPhase.Stopping, ReplicaState.Healthy)));

        Assert.Equal(["web-old: old version 0123456789ab still healthy on a (being replaced)"], running.NotReady);
        Assert.True(stopping.Done);
    }

    [Fact]
    public void Of_FewerReplicasThanDesired_SaysHowManyAreMissing()
    {
        var progress = DeployProgress.Of(View(3, Replica("web-1", Web.Version, ReplicaPhase.Assigned, ReplicaState.Starting)));

        Assert.Equal(["web-1: starting on a", "2 replicas are not created yet (the leader places replicas; is a server leading?)"], progress.NotReady);
    }

    [Fact]
    public void Of_RollingUpdate_SaysReplicasComeOneAtATime()
    {
        var progress = DeployProgress.Of(View(2,
            Replica("web-new", Web.Version, ReplicaPhase.Assigned, ReplicaState.Healthy),
            Replica("web-old", "0123456789ab", ReplicaPhase.Assigned, ReplicaState.Healthy)));

        Assert.Equal("1 replica is not created yet (an update replaces replicas one at a time, each healthy before the next)", progress.NotReady[0]);
    }

    [Fact]
    public void Of_ScaledDown_IsNotDoneWhileSurplusIsAssigned()
    {
        var v = Web.Version;

        var assigned = DeployProgress.Of(View(1, Replica("web-1", v, ReplicaPhase.Assigned, ReplicaState.Healthy), Replica("web-2", v, ReplicaPhase.Assigned, ReplicaState.Healthy)));
        var stopping = DeployProgress.Of(View(1, Replica("web-1", v, ReplicaPhase.Assigned, ReplicaState.Healthy), Replica("web-2", v, ReplicaPhase.Stopping)));

        Assert.Equal(["1 surplus replica is still running (scaling down)"], assigned.NotReady);
        Assert.True(stopping.Done);
    }

    [Fact]
    public void Of_FailedReplica_IsListedWithItsReason()
    {
        var progress = DeployProgress.Of(View(1, Replica("web-1", Web.Version, ReplicaPhase.Failed, ReplicaState.Failed, reason: "exit 1 five times in 30s")));

        Assert.False(progress.Done);
        Assert.Contains("web-1: failed on a: exit 1 five times in 30s", progress.NotReady);
    }
}
