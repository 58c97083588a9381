using Corral.Core.Cluster;
using Corral.Testing;

namespace Corral.IntegrationTests;

public sealed partial class MultiNodeTests
{
    /// <summary>
    /// An operator's restart (SIGTERM, then start again) of the only server, with an eviction timeout shorter than
    /// the old shutdown took: the stopping server must stop leading before it stops taking heartbeats, or its node
    /// monitor marks every node down and evicts their replicas.
    /// </summary>
    [Fact]
    public async Task ServerGracefulRestart_StopsPromptly_NoNodeDownAndNoReplicaReplaced()
    {
        await using var cluster = await NodeCluster.StartAsync("2s", Nodes);
        await DeployAsync(cluster, Worker("web", 3, "4s"));
        var before = await AllHealthyAsync(cluster, "every replica healthy");
        var pids = Nodes.ToDictionary(n => n, cluster.RunningTasks, StringComparer.Ordinal);
        var fromEvent = await LatestEventIndexAsync(cluster);

        // An operator's `corral events -f` is waiting in a blocking query when the server is told to stop.
        var waiting = cluster.Client.GetEventsAsync(long.MaxValue / 2, TimeSpan.FromMinutes(5), 1, CancellationToken.None);
        await Task.Delay(500);
        Assert.False(waiting.IsCompleted, "the blocking query should still wait");
        var stopping = await cluster.StopServerAsync();
        try
        {
            await waiting; // answered with what the server had, or cut off with the connection: either way, over
        }
        catch (Exception e) when (e is Client.CorralConnectionException or Client.CorralApiException or HttpRequestException or IOException)
        {
        }
        _output.WriteLine($"the server exited {Ms(stopping)} after SIGTERM");
        Assert.True(stopping < TimeSpan.FromSeconds(12), $"the server took {Ms(stopping)} to stop after SIGTERM\n" + cluster.Logs());
        // Down longer than grace + eviction: nothing may happen while no server runs.
        await Task.Delay(TimeSpan.FromSeconds(7));
        cluster.LaunchServer();
        await cluster.WaitUntilListeningAsync();

        // PIDs come with each agent's first heartbeat to the restarted server.
        var after = await AllHealthyAsync(cluster, "every replica healthy and reported after the restart", rs => rs.All(r => !r.Replica.Active || r.Pid is not null));
        Assert.Equal(
            before.Where(r => r.Replica.Active).Select(r => (r.Replica.Id, r.Replica.Node, r.Pid)).Order(),
            after.Where(r => r.Replica.Active).Select(r => (r.Replica.Id, r.Replica.Node, r.Pid)).Order());
        // Past the new term's heartbeat grace and the eviction timeout.
        await Task.Delay(TimeSpan.FromSeconds(6));
        var events = await cluster.EventsAfterAsync(fromEvent);
        Assert.DoesNotContain(events, e => e.Kind is "node.down" or "replica.lost" or "replica.placed" or "replica.stopping" or "replica.stopped");
        foreach (var node in Nodes)
        {
            Assert.Equal(pids[node], cluster.RunningTasks(node));
            Assert.Equal(NodeStatus.Ready, (await cluster.Client.GetNodeAsync(node, CancellationToken.None)).Node.Status);
        }
    }
}
