using Corral.Core.Api;
using Corral.Core.Tasks;
using Corral.Testing;

namespace Corral.IntegrationTests;

public sealed partial class HaClusterTests
{
    private const int SigKill = 9;

    [Fact]
    public async Task AgentPinnedToAFollower_LeaderSeesItsStatsPidsInApiAndMetrics_AndRaisesItsCrashLoop()
    {
        await using var cluster = await HaCluster.StartAsync(3,
            """{ "interval": "500ms", "crash_loop_restarts": 3, "crash_loop_window": "30s" }""", "--timing", "fast");
        var leader = await cluster.WaitLeaderAsync(null);
        var leaderIndex = cluster.IndexOf(leader);
        var follower = Enumerable.Range(0, cluster.Count).First(i => i != leaderIndex);
        using var leaderClient = cluster.ClientOf(leaderIndex);
        using var followerClient = cluster.ClientOf(follower);

        // The agent knows only the follower: everything the leader learns of it comes through the store.
        var agent = await cluster.StartAgentAsync("n1", [follower]);
        var node = await Eventually.ValueAsync(async () =>
        {
            Assert.False(agent.HasExited, "the agent exited\n" + cluster.Log("n1.log"));
            return (await leaderClient.ListNodesAsync(Ct)).FirstOrDefault(n => n.Node.Name == "n1"
                && n.CpuPercent is not null && n.MemoryUsedBytes is not null && n.DiskUsedBytes is not null && n.DiskTotalBytes is not null);
        }, HaCluster.Timeout, $"the leader {leader} to show n1's stats, which it heartbeats to {cluster.Name(follower)} only\n" + cluster.Logs());
        Assert.True(node.DiskTotalBytes > 0 && node.MemoryUsedBytes > 0, $"n1's stats on the leader: {node}");

        var stack = Stacks.Stack("it-relay", "  looper:\n    command: /bin/sh\n    args: [\"-c\", \"exec sleep 100000\"]\n    replicas: 1\n    restart: { policy: always, max_attempts: 50, window: 1m, backoff: 100ms, max_backoff: 200ms }\n    stop_timeout: 5s\n");
        await cluster.Client.DeployAsync(Stacks.Request(stack), Ct);
        var replica = await Eventually.ValueAsync(async () =>
            (await leaderClient.GetServiceAsync("looper", Ct)).Replicas.FirstOrDefault(r => r.Pid is not null && r.Replica.State is ReplicaState.Running or ReplicaState.Healthy),
            HaCluster.Timeout, "the leader to show the replica's pid\n" + cluster.Logs());
        Assert.True(ProcessReaper.IsAlive(replica.Pid!.Value), $"the pid the leader shows ({replica.Pid}) is a running process");
        var onFollower = (await followerClient.GetServiceAsync("looper", Ct)).Replicas.Single();
        Assert.Equal(onFollower.Pid, replica.Pid);
        var id = replica.Replica.Id;

        // The leader's /metrics carries the node's and the replica's stats.
        await Eventually.ValueAsync(async () =>
        {
            var text = await leaderClient.GetMetricsTextAsync(Ct);
            return text.Contains("corral_node_disk_used_bytes{node=\"n1\"}", StringComparison.Ordinal)
                && text.Contains("corral_node_memory_used_bytes{node=\"n1\"}", StringComparison.Ordinal)
                && text.Contains($"replica=\"{id}\"", StringComparison.Ordinal) ? text : null;
        }, HaCluster.Timeout, "the leader's metrics to carry n1's and the replica's stats");

        // Restarts counted on the follower reach the leader's monitor: it raises the crash-loop alarm. Each new PID is
        // read from the leader's API (bounded kills; a loaded machine may let an early restart leave the window).
        var alarm = "replica.crash_loop.replica." + id;
        var lastPid = 0;
        for (var kill = 0; kill < 8; kill++)
        {
            if (kill >= 3 && (await cluster.Client.ListAlarmsAsync(all: false, Ct)).Any(a => a.Id == alarm))
            {
                break;
            }
            var running = await Eventually.ValueAsync(async () =>
                (await leaderClient.GetServiceAsync("looper", Ct)).Replicas.FirstOrDefault(r => r.Replica.Id == id && r.Pid is { } pid && pid != lastPid
                    && r.Replica.State is ReplicaState.Running or ReplicaState.Healthy),
                HaCluster.Timeout, "the leader to show the replica's new pid\n" + cluster.Logs());
            lastPid = running.Pid!.Value;
            Assert.True(ClusterProcesses.Signal(lastPid, SigKill), $"kill -9 {lastPid}");
        }
        var raised = await Eventually.ValueAsync(async () =>
            (await cluster.Client.ListAlarmsAsync(all: false, Ct)).FirstOrDefault(a => a.Id == alarm),
            HaCluster.Timeout, "the leader's monitor to raise the crash-loop alarm of a replica on a node that talks to a follower\n" + cluster.Logs());
        Assert.Contains("restarted", raised.Message, StringComparison.Ordinal);
        Assert.Equal(leader, (await cluster.Client.GetStatusAsync(Ct)).Leader);
        Assert.False(agent.HasExited, "the agent kept running\n" + cluster.Log("n1.log"));
    }
}
