using Corral.Core.Cluster;
using Corral.Testing;

namespace Corral.IntegrationTests;

public sealed partial class MultiNodeTests
{
    [Fact]
    public async Task ServerDown20s_EveryReplicaKeepsItsPid_AgentsReconnectWithinSecondsAndNothingRestarts()
    {
        await using var cluster = await NodeCluster.StartAsync("5s", Nodes);
        // The singleton's fence_after outlasts the outage: its agent has no reason to stop it.
        await DeployAsync(cluster, Worker("web", 3, "60s"), Worker("single", 1, "60s", fenceAfter: "45s"));
        var before = await AllHealthyAsync(cluster, "every replica healthy");
        AssertProcessesMatchApi(cluster, before, Nodes);
        var pids = Nodes.ToDictionary(n => n, cluster.RunningTasks, StringComparer.Ordinal);
        var restarts = Nodes.ToDictionary(n => n, cluster.AgentRestarts, StringComparer.Ordinal);
        var fromEvent = await LatestEventIndexAsync(cluster);

        await cluster.KillServerAsync();
        var outage = System.Diagnostics.Stopwatch.StartNew();
        while (outage.Elapsed < TimeSpan.FromSeconds(20))
        {
            cluster.AssertAgentsAlive();
            foreach (var node in Nodes)
            {
                Assert.Equal(pids[node], cluster.RunningTasks(node));
            }
            await Task.Delay(1000);
        }

        var restartedAt = DateTimeOffset.UtcNow;
        cluster.LaunchServer();
        var listening = await cluster.WaitUntilListeningAsync();
        // The server's heartbeat table starts empty: the first heartbeat time each node shows is its reconnection.
        var firstHeartbeat = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        DateTimeOffset? apiAnswered = null;
        var polling = System.Diagnostics.Stopwatch.StartNew();
        while (!Nodes.All(firstHeartbeat.ContainsKey))
        {
            Assert.True(polling.Elapsed < NodeCluster.Timeout, "every agent to heartbeat to the restarted server\n" + cluster.Logs());
            try
            {
                var views = await cluster.Client.ListNodesAsync(CancellationToken.None);
                apiAnswered ??= DateTimeOffset.UtcNow;
                foreach (var view in views)
                {
                    if (view.LastHeartbeat is { } seen)
                    {
                        firstHeartbeat.TryAdd(view.Node.Name, seen);
                    }
                }
            }
            catch (Exception e) when (e is Client.CorralConnectionException or Client.CorralApiException)
            {
                // Listening, but not serving yet.
            }
            await Task.Delay(20);
        }
        var reconnect = firstHeartbeat.Values.Max() - listening;
        _output.WriteLine($"server down {Ms(listening - restartedAt + TimeSpan.FromSeconds(20))} in all; listening {Ms(listening - restartedAt)} after its start; "
            + "agents reconnected " + string.Join(", ", firstHeartbeat.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => $"{f.Key} {Ms(f.Value - listening)}"))
            + $" after it listened; its API first answered {Ms(apiAnswered!.Value - listening)} after it listened");
        Assert.True(reconnect <= TimeSpan.FromSeconds(3), $"the last agent reconnected {Ms(reconnect)} after the server listened again");

        var after = await AllHealthyAsync(cluster, "every replica healthy after the server's return");
        Assert.Equal(
            before.Where(r => r.Replica.Active).Select(r => (r.Replica.Id, r.Replica.Node, r.Pid)).Order(),
            after.Where(r => r.Replica.Active).Select(r => (r.Replica.Id, r.Replica.Node, r.Pid)).Order());
        AssertProcessesMatchApi(cluster, after, Nodes);
        foreach (var node in Nodes)
        {
            Assert.Equal(pids[node], cluster.RunningTasks(node));
            Assert.Equal(restarts[node], cluster.AgentRestarts(node));
        }
        // A few seconds more, past the heartbeat grace of the new term: still no node down, nothing placed, stopped or restarted.
        await Task.Delay(TimeSpan.FromSeconds(6));
        var events = await cluster.EventsAfterAsync(fromEvent);
        Assert.DoesNotContain(events, e => e.Kind is "node.down" or "replica.lost" or "replica.placed" or "replica.stopping" or "replica.stopped" or "replica.starting" or "replica.exited" or "replica.failed");
        foreach (var node in Nodes)
        {
            Assert.Equal(pids[node], cluster.RunningTasks(node));
            Assert.Equal(NodeStatus.Ready, (await cluster.Client.GetNodeAsync(node, CancellationToken.None)).Node.Status);
        }
    }
}
