using Corral.Core.Cluster;
using Corral.Testing;

namespace Corral.IntegrationTests;

public sealed partial class MultiNodeTests
{
    [Fact]
    public async Task LostMachine_KillAgentSupervisorAndTasks_NodeDownThenReplacedAfterEvictionAndReturnRunsNothingTwice()
    {
        var eviction = TimeSpan.FromSeconds(4);
        await using var cluster = await NodeCluster.StartAsync("2s", Nodes);
        await DeployAsync(cluster, Worker("web", 3, "4s"), Worker("single", 1, "7s"));
        var before = await AllHealthyAsync(cluster, "every replica healthy");
        AssertProcessesMatchApi(cluster, before, Nodes);

        var victim = before.Single(r => r.Replica.Service == "single").Replica.Node!;
        var survivors = Nodes.Where(n => n != victim).ToArray();
        var lostIds = before.Where(r => r.Replica.Node == victim).Select(r => r.Replica.Id).ToHashSet(StringComparer.Ordinal);
        var survivorPids = survivors.SelectMany(n => cluster.RunningTasks(n)).ToDictionary(t => t.Key, t => t.Value, StringComparer.Ordinal);
        var fromEvent = await LatestEventIndexAsync(cluster);

        var killedAt = await cluster.KillMachineAsync(victim);

        // Down after heartbeat_grace, while its replicas still wait for their eviction timeout.
        var down = await Eventually.ValueAsync(async () =>
        {
            var node = await cluster.Client.GetNodeAsync(victim, CancellationToken.None);
            return node.Node.Status == NodeStatus.Down ? node : null;
        }, NodeCluster.Timeout, $"node {victim} to go down");
        var waiting = await cluster.Client.ListReplicasAsync(null, victim, CancellationToken.None);
        Assert.True(
            lostIds.All(id => waiting.Any(r => r.Replica.Id == id && r.Replica.Phase == ReplicaPhase.Assigned)),
            $"the replicas of {victim} are kept until the eviction timeout, but were:\n{Describe(waiting)}");

        var after = await AllHealthyAsync(cluster, "replacements healthy on the other nodes", replicas => !replicas.Any(r => r.Replica.Node == victim && r.Replica.Active));
        var replacedAt = DateTimeOffset.UtcNow;
        Assert.DoesNotContain(after, r => lostIds.Contains(r.Replica.Id) && r.Replica.Active);
        AssertProcessesMatchApi(cluster, after, survivors);
        foreach (var (id, pid) in survivorPids)
        {
            Assert.Equal(pid, cluster.RunningTasks(survivors.Single(n => cluster.RunningTasks(n).ContainsKey(id)))[id]);
        }

        var events = await cluster.EventsAfterAsync(fromEvent);
        var nodeDown = Assert.Single(events, e => e.Kind == "node.down" && e.Subject == "node/" + victim);
        var lost = events.Where(e => e.Kind == "replica.lost").ToList();
        Assert.True(lostIds.All(id => lost.Any(e => e.Subject == "replica/" + id)), "every replica of the lost node has a replica.lost event\n" + Describe(events));
        // A down node is down since its last heartbeat (before the kill), and eviction counts from there.
        var lastHeartbeat = down.Node.StatusSince;
        Assert.True(lastHeartbeat <= killedAt + TimeSpan.FromMilliseconds(500), $"down since {lastHeartbeat:O}, after the kill at {killedAt:O}");
        var firstLost = lost.Min(e => e.Time);
        Assert.True(firstLost - lastHeartbeat >= eviction, $"replicas lost {Ms(firstLost - lastHeartbeat)} after the last heartbeat, before the eviction timeout\n{Describe(events)}");
        Assert.True(nodeDown.Time < firstLost, Describe(events));
        _output.WriteLine($"node {victim}: down {Ms(nodeDown.Time - killedAt)}, lost {Ms(firstLost - killedAt)}, replacements healthy (seen by polling) {Ms(replacedAt - killedAt)} after the kill");

        // The machine comes back with the same data dir: it runs nothing of what was replaced, and nothing restarts.
        var returnedAt = DateTimeOffset.UtcNow;
        cluster.StartAgent(victim);
        await Eventually.ValueAsync(async () =>
        {
            cluster.AssertAgentsAlive();
            var node = await cluster.Client.GetNodeAsync(victim, CancellationToken.None);
            return node.Node.Status == NodeStatus.Ready && node.LastHeartbeat > returnedAt ? node : null;
        }, NodeCluster.Timeout, $"node {victim} to be ready again");
        for (var i = 0; i < 20; i++)
        {
            Assert.Empty(cluster.RunningTasks(victim));
            await Task.Delay(150);
        }
        var settled = await AllHealthyAsync(cluster, "the cluster settled after the return");
        Assert.DoesNotContain(settled, r => r.Replica.Node == victim && r.Replica.Active);
        AssertProcessesMatchApi(cluster, settled, Nodes);
        Assert.Equal(after.Where(r => r.Replica.Active).Select(r => (r.Replica.Id, r.Pid)).Order(), settled.Where(r => r.Replica.Active).Select(r => (r.Replica.Id, r.Pid)).Order());
        Assert.Contains(await cluster.EventsAfterAsync(fromEvent), e => e.Kind == "node.up" && e.Subject == "node/" + victim);
    }

    [Fact]
    public async Task FrozenAgent_ResumesAfterEviction_ItsStaleReplicasAreStoppedAndNothingRunsTwice()
    {
        await using var cluster = await NodeCluster.StartAsync("2s", Nodes);
        await DeployAsync(cluster, Worker("web", 3, "3s"));
        var before = await AllHealthyAsync(cluster, "every replica healthy");
        var victim = before.First().Replica.Node!;
        var survivors = Nodes.Where(n => n != victim).ToArray();
        var stale = cluster.RunningTasks(victim);
        Assert.NotEmpty(stale);
        var agent = Assert.Single(NodeClusterAgents(cluster, victim));

        // SIGSTOP freezes the agent only: its supervisor and its tasks keep running, as on a machine cut off from the servers.
        Assert.True(ClusterProcesses.Signal(agent, 19));
        try
        {
            await AllHealthyAsync(cluster, "replacements healthy on the other nodes", replicas => !replicas.Any(r => r.Replica.Node == victim && r.Replica.Active));
            Assert.Equal(stale, cluster.RunningTasks(victim));
        }
        finally
        {
            ClusterProcesses.Signal(agent, 18);
        }
        var resumedAt = DateTimeOffset.UtcNow;

        // Told at its first contact, the agent stops what is no longer its own.
        await Eventually.TrueAsync(() => cluster.RunningTasks(victim).Count == 0, NodeCluster.Timeout, "the stale replicas to stop");
        var overlap = DateTimeOffset.UtcNow - resumedAt;
        var settled = await AllHealthyAsync(cluster, "the cluster settled after the resume");
        AssertProcessesMatchApi(cluster, settled, Nodes);
        _output.WriteLine($"stale replicas on {victim} stopped {Ms(overlap)} after the agent resumed (stop_timeout 2s)");
        Assert.True(overlap < TimeSpan.FromSeconds(10), $"stale replicas ran {Ms(overlap)} beside their replacements");
    }

    private static IEnumerable<int> NodeClusterAgents(NodeCluster cluster, string node) =>
        ClusterProcesses.Find(cluster.AgentDir(node)).Where(p => p.CommandLine.Contains(" agent ", StringComparison.Ordinal)).Select(p => p.Pid);
}
