using Corral.Core.Api;
using Corral.Core.Tasks;
using Corral.Server.State;
using Corral.Store.Etcd;
using Corral.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace Corral.IntegrationTests;

public sealed partial class HaClusterTests(ITestOutputHelper output)
{
    private const int SigKill = 9;

    [Fact]
    public async Task AgentPinnedToAFollower_LeaderSeesItsStatsPidsInApiAndMetrics_AndRaisesItsCrashLoop()
    {
        await using var cluster = await HaCluster.StartWithMonitorAsync(3,
            """{ "interval": "500ms", "crash_loop_restarts": 3, "crash_loop_window": "30s" }""");
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

    [Fact]
    public async Task AgentsOnTwoServers_SteadyState_EachWritesAtMostOneDigestPer2s_TheServerWithoutNodesNone()
    {
        await using var cluster = await HaCluster.StartAsync(3);
        await cluster.WaitLeaderAsync(null);
        var agents = new[] { await cluster.StartAgentAsync("n1", [0]), await cluster.StartAgentAsync("n2", [1]) };
        await cluster.Client.DeployAsync(Stacks.Request(Stacks.Stack("ha", Stacks.Worker("worker", 4))), Ct);

        // s2 hears from no agent, yet shows every replica's PID and both nodes' stats.
        using var s2 = cluster.ClientOf(2);
        await Eventually.ValueAsync(async () =>
        {
            var service = await s2.GetServiceAsync("worker", Ct);
            var nodes = await s2.ListNodesAsync(Ct);
            return service.Replicas.Count == 4 && service.Replicas.All(r => r.Pid is not null) && nodes.Count == 2 && nodes.All(n => n.CpuPercent is not null) ? service : null;
        }, HaCluster.Timeout, "s2 to show the PIDs of the 4 replicas and both nodes' stats\n" + cluster.Logs());

        // Steady state: count each server's digest writes (the key's version) and every store write (the revision).
        await Task.Delay(TimeSpan.FromSeconds(5));
        await using var etcd = new EtcdStore(new EtcdStoreOptions { Endpoints = cluster.Etcd.ClientUrls }, TimeProvider.System, NullLogger<EtcdStore>.Instance);
        async Task<(long[] Versions, long Revision)> SampleAsync()
        {
            var versions = new long[cluster.Count];
            for (var i = 0; i < cluster.Count; i++)
            {
                versions[i] = (await etcd.GetAsync(Keys.NodeDigest(cluster.Name(i)), Ct))?.Version ?? 0;
            }
            return (versions, await etcd.GetRevisionAsync(Ct));
        }
        var window = TimeSpan.FromSeconds(20);
        var before = await SampleAsync();
        await Task.Delay(window);
        var after = await SampleAsync();

        var writes = Enumerable.Range(0, cluster.Count).Select(i => after.Versions[i] - before.Versions[i]).ToArray();
        output.WriteLine($"digest writes in {window.TotalSeconds:0} s: s0 {writes[0]}, s1 {writes[1]}, s2 {writes[2]}; all store writes: {after.Revision - before.Revision}");
        Assert.All(before.Versions, v => Assert.True(v >= 1, "every server wrote its digest once"));
        var most = (long)(window / Corral.Server.Controllers.LivenessRelay.DigestInterval) + 1;
        Assert.True(writes[0] <= most && writes[1] <= most, $"at most one digest write per {Corral.Server.Controllers.LivenessRelay.DigestInterval.TotalSeconds:0} s per server with nodes: {string.Join(", ", writes)}");
        Assert.Equal(0, writes[2]);
        Assert.All(agents, a => Assert.False(a.HasExited, "the agents kept running\n" + cluster.Logs()));
    }
}
