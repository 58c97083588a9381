using Corral.Core.Cluster;
using Corral.Testing;

namespace Corral.IntegrationTests;

public sealed partial class DevClusterTests
{
    private const int SigKill = 9;

    [Fact]
    public async Task KillTaskProcess_SigkillOneReplica_AgentRestartsItWithNewPidAndAllHealthyAgain()
    {
        await Client.DeployAsync(Stacks.Request(Stacks.Stack("it-kill", Stacks.Web("kill-web", 2))), Ct);
        var before = await WaitAllHealthyAsync("kill-web", 2);
        var victim = before.Replicas[0];
        var pid = victim.Pid!.Value;
        Assert.Equal(pid, StatusFilePid(victim.Replica.Id));
        var other = before.Replicas[1];

        Assert.True(ClusterProcesses.Signal(pid, SigKill), $"kill -9 {pid}");

        var after = await WaitServiceAsync("kill-web",
            s => s.Replicas.Count == 2 && s.Healthy == 2
                && s.Replicas.Any(r => r.Replica.Id == victim.Replica.Id && r.Replica.Healthy && r.Pid is { } p && p != pid),
            $"replica {victim.Replica.Id} restarted with a new pid and healthy");
        Assert.False(Testing.ProcessReaper.IsAlive(pid));
        var restarted = after.Replicas.Single(r => r.Replica.Id == victim.Replica.Id);
        Assert.Equal(ReplicaPhase.Assigned, restarted.Replica.Phase);
        Assert.Equal(restarted.Pid, StatusFilePid(victim.Replica.Id));
        Assert.True(StatusFileRestarts(victim.Replica.Id) >= 1, "the agent's restart policy restarted it");
        // The other replica was not touched.
        Assert.Equal(other.Pid, after.Replicas.Single(r => r.Replica.Id == other.Replica.Id).Pid);

        await RemoveQuietlyAsync("kill-web");
    }
}
