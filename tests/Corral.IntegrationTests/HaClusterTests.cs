using Corral.Core.Api;
using Corral.Core.Cluster;
using Corral.Core.Tasks;
using Corral.Testing;

namespace Corral.IntegrationTests;

/// <summary>Three real <c>corral server run</c> processes on a real 3-member etcd, with a real agent.</summary>
public sealed partial class HaClusterTests
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    [Fact]
    public async Task KillLeaderProcess_AnotherLeadsApiAnswersEverywhereAgentFailsOverAndKeepsItsReplicas()
    {
        await using var cluster = await HaCluster.StartAsync(3);
        var leader = await cluster.WaitLeaderAsync(null);
        var leaderIndex = cluster.IndexOf(leader);
        var others = Enumerable.Range(0, cluster.Count).Where(i => i != leaderIndex).ToArray();

        // The agent knows the leader first, so killing the leader forces it to fail over.
        var agent = await cluster.StartAgentAsync("n1", [leaderIndex, .. others]);
        await Eventually.ValueAsync(async () =>
        {
            Assert.False(agent.HasExited, "the agent exited\n" + cluster.Log("n1.log"));
            return (await cluster.Client.ListNodesAsync(Ct)).FirstOrDefault(n => n.Node.Name == "n1" && n.LastHeartbeat is not null);
        }, HaCluster.Timeout, "node n1 to register and heartbeat");
        await cluster.Client.DeployAsync(Stacks.Request(Stacks.Stack("ha", Stacks.Worker("worker", 2))), Ct);
        var before = await WaitRunningAsync(cluster, 2);

        await cluster.KillServerAsync(leaderIndex);
        var killedAt = DateTimeOffset.UtcNow;
        var next = await cluster.WaitLeaderAsync(leader);
        Assert.NotEqual(leader, next);
        Assert.Contains(cluster.IndexOf(next), others);

        // Every surviving server answers the API, agrees on the leader, and hears of the agent's heartbeats after the
        // kill, whichever server the agent now talks to (liveness relayed through the store).
        foreach (var i in others)
        {
            using var client = cluster.ClientOf(i);
            await Eventually.ValueAsync(async () =>
            {
                var status = await client.GetStatusAsync(Ct);
                var node = status.Nodes.Single(n => n.Node.Name == "n1");
                return status.Leader == next && node.LastHeartbeat > killedAt ? status : null;
            }, HaCluster.Timeout, $"{cluster.Name(i)} to report leader {next} and a heartbeat of n1 after the kill\n" + cluster.Logs());
        }

        // Past the heartbeat grace (5 s) the node is still ready and both replicas run with the same PIDs.
        await Task.Delay(TimeSpan.FromSeconds(7));
        var nodeView = (await cluster.Client.ListNodesAsync(Ct)).Single(n => n.Node.Name == "n1");
        Assert.Equal(NodeStatus.Ready, nodeView.Node.Status);
        var after = await WaitRunningAsync(cluster, 2);
        Assert.Equal(
            before.Replicas.Select(r => (r.Replica.Id, r.Pid)).OrderBy(r => r.Id),
            after.Replicas.Select(r => (r.Replica.Id, r.Pid)).OrderBy(r => r.Id));
        Assert.All(before.Replicas, r => Assert.True(ProcessReaper.IsAlive(r.Pid!.Value), $"replica {r.Replica.Id} pid {r.Pid} still runs"));
        Assert.DoesNotContain((await cluster.Client.GetEventsAsync(0, null, 1000, Ct)).Events, e => e.Kind == "node.down");

        // The new leader runs the controllers: a scale-up is placed and started.
        await cluster.Client.ScaleAsync("worker", 3, Ct);
        var scaled = await WaitRunningAsync(cluster, 3);
        Assert.Superset(before.Replicas.Select(r => r.Replica.Id).ToHashSet(), scaled.Replicas.Select(r => r.Replica.Id).ToHashSet());
        Assert.False(agent.HasExited, "the agent kept running\n" + cluster.Log("n1.log"));
    }

    [Fact]
    public async Task QuorumLost_TwoOfThreeEtcdMembersKilled_WritesRefusedReadsAndReplicasGoOn_AJoinWaits_OneBackEverythingResumes()
    {
        await using var cluster = await HaCluster.StartAsync(2);
        var agent = await cluster.StartAgentAsync("n1", [0, 1]);
        await Eventually.ValueAsync(async () =>
        {
            Assert.False(agent.HasExited, "the agent exited\n" + cluster.Log("n1.log"));
            return (await cluster.Client.ListNodesAsync(Ct)).FirstOrDefault(n => n.Node.Name == "n1" && n.LastHeartbeat is not null);
        }, HaCluster.Timeout, "node n1 to register and heartbeat");
        await cluster.Client.DeployAsync(Stacks.Request(Stacks.Stack("ha", Stacks.Worker("worker", 2))), Ct);
        var before = await WaitRunningAsync(cluster, 2);
        var laterToken = (await cluster.Client.CreateJoinTokenAsync("10m", 1, "agent", Ct)).Token;

        await cluster.Etcd.KillAsync(0);
        await cluster.Etcd.KillAsync(1);

        // Writes through either server: a 503 that says the quorum is lost.
        for (var i = 0; i < cluster.Count; i++)
        {
            using var client = cluster.ClientOf(i);
            var refused = await Eventually.ValueAsync(async () =>
            {
                try
                {
                    await client.ScaleAsync("worker", 3, Ct);
                }
                catch (Corral.Client.CorralApiException e) when (e.Status == System.Net.HttpStatusCode.ServiceUnavailable && e.Title == "quorum lost")
                {
                    return e;
                }
                Assert.Fail("a write was accepted without a quorum");
                return null;
            }, HaCluster.Timeout, $"{cluster.Name(i)} to refuse writes for lost quorum\n" + cluster.Logs());
            Assert.Contains("lost its quorum: 1 of 3 etcd members answer and 2 are needed", refused.Detail, StringComparison.Ordinal);

            // Reads it can serve go on, from the surviving member's copy.
            var status = await client.GetStatusAsync(Ct);
            Assert.False(status.StoreHealthy);
            Assert.Null(status.Leader);
            Assert.Equal(2, (await client.GetServiceAsync("worker", Ct)).Desired);
        }

        // An agent joining now is told 503 and asks again instead of giving up.
        var joining = cluster.StartAgent("n2", [0, 1], laterToken);
        await Eventually.ValueAsync(() =>
        {
            Assert.False(joining.HasExited, "the joining agent gave up\n" + cluster.Log("n2.log"));
            return Task.FromResult(cluster.Log("n2.log").Contains("cannot record the join now (503", StringComparison.Ordinal) ? (bool?)true : null);
        }, HaCluster.Timeout, "the joining agent to be told 503 and ask again\n" + cluster.Log("n2.log"));

        // Past the heartbeat grace, the replicas still run with the same PIDs.
        await Task.Delay(TimeSpan.FromSeconds(6));
        Assert.All(before.Replicas, r => Assert.True(ProcessReaper.IsAlive(r.Pid!.Value), $"replica {r.Replica.Id} pid {r.Pid} still runs"));

        // One member back: a majority again, and writes, leadership and controllers resume without anyone's help.
        await cluster.Etcd.RestartAsync(0);
        await Eventually.ValueAsync(async () =>
        {
            try
            {
                return await cluster.Client.ScaleAsync("worker", 3, Ct);
            }
            catch (Corral.Client.CorralApiException e) when (e.Status == System.Net.HttpStatusCode.ServiceUnavailable)
            {
                return null;
            }
        }, HaCluster.Timeout, "writes to resume once a majority is back\n" + cluster.Logs());
        await cluster.WaitLeaderAsync(null);
        var after = await WaitRunningAsync(cluster, 3);
        foreach (var replica in before.Replicas)
        {
            Assert.Equal(replica.Pid, after.Replicas.Single(r => r.Replica.Id == replica.Replica.Id).Pid);
        }
        Assert.False(agent.HasExited, "the agent kept running\n" + cluster.Log("n1.log"));
        // The waiting join went through with its token once writes resumed.
        await Eventually.ValueAsync(async () =>
        {
            Assert.False(joining.HasExited, "the joining agent exited\n" + cluster.Log("n2.log"));
            return (await cluster.Client.ListNodesAsync(Ct)).FirstOrDefault(n => n.Node.Name == "n2" && n.LastHeartbeat is not null);
        }, HaCluster.Timeout, "node n2 to join and heartbeat once the quorum is back\n" + cluster.Log("n2.log"));
    }

    /// <summary>
    /// Waits for <paramref name="replicas"/> running worker replicas. A replica's PID reaches the other servers a few
    /// seconds after the server its node heartbeats to, so each replica's view is taken from whichever running server
    /// knows its PID first.
    /// </summary>
    private static Task<ServiceView> WaitRunningAsync(HaCluster cluster, int replicas) => Eventually.ValueAsync(async () =>
    {
        var service = await cluster.Client.GetServiceAsync("worker", Ct);
        var views = new List<ReplicaView>();
        foreach (var replica in service.Replicas)
        {
            ReplicaView? known = null;
            for (var i = 0; i < cluster.Count && known is null; i++)
            {
                if (cluster.IsRunning(i))
                {
                    using var client = cluster.ClientOf(i);
                    known = (await client.GetServiceAsync("worker", Ct)).Replicas.FirstOrDefault(r => r.Replica.Id == replica.Replica.Id && r.Pid is not null);
                }
            }
            views.Add(known ?? replica);
        }
        return views.Count == replicas && views.All(r => r.Replica.State is ReplicaState.Running or ReplicaState.Healthy && r.Pid is not null)
            ? service with { Replicas = views }
            : null;
    }, HaCluster.Timeout, $"{replicas} worker replicas running\n" + cluster.Logs());
}
