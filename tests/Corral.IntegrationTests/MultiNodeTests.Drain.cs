using Corral.Core.Api;
using Corral.Core.Cluster;
using Corral.Testing;

namespace Corral.IntegrationTests;

public sealed partial class MultiNodeTests
{
    [Fact]
    public async Task Drain_MovesReplicasOneAtATime_HealthyNeverBelowDesiredMinusOneThenNodeIneligibleWithEvents()
    {
        const int Desired = 4;
        await using var cluster = await NodeCluster.StartAsync("5s", Nodes);
        await DeployAsync(cluster, Worker("web", Desired, "30s"));
        var before = await AllHealthyAsync(cluster, "every replica healthy");
        var drained = before.GroupBy(r => r.Replica.Node!).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).First().Key;
        var old = before.Where(r => r.Replica.Node == drained).Select(r => r.Replica.Id).ToHashSet(StringComparer.Ordinal);
        var fromEvent = await LatestEventIndexAsync(cluster);

        await cluster.Client.DrainNodeAsync(drained, CancellationToken.None);

        // Poll the API as fast as it answers: healthy never below desired - 1, and an old replica stops only once as
        // many new replicas (elsewhere) as old ones stopped so far are healthy.
        var minHealthy = int.MaxValue;
        var polls = 0;
        var newHealthy = new HashSet<string>(StringComparer.Ordinal);
        var stopped = new HashSet<string>(StringComparer.Ordinal);
        var timer = System.Diagnostics.Stopwatch.StartNew();
        NodeView node;
        while (true)
        {
            Assert.True(timer.Elapsed < NodeCluster.Timeout, $"the drain of {drained} to finish\n{cluster.Logs()}");
            cluster.AssertAgentsAlive();
            var replicas = await cluster.ReplicasAsync("web");
            polls++;
            var healthy = replicas.Count(r => r.Replica.Healthy);
            minHealthy = Math.Min(minHealthy, healthy);
            Assert.True(healthy >= Desired - 1, $"poll {polls}: {healthy} healthy of {Desired}\n{Describe(replicas)}");
            foreach (var r in replicas.Where(r => r.Replica.Healthy && !old.Contains(r.Replica.Id) && before.All(b => b.Replica.Id != r.Replica.Id)))
            {
                newHealthy.Add(r.Replica.Id);
            }
            foreach (var id in old.Where(id => !replicas.Any(r => r.Replica.Id == id && r.Replica.Phase == ReplicaPhase.Assigned)))
            {
                stopped.Add(id);
            }
            Assert.True(stopped.Count <= newHealthy.Count, $"poll {polls}: {stopped.Count} old replica(s) stopping or gone but only {newHealthy.Count} new one(s) seen healthy\n{Describe(replicas)}");
            node = await cluster.Client.GetNodeAsync(drained, CancellationToken.None);
            if (!node.Node.Draining && !node.Node.Eligible && replicas.Count(r => r.Replica.Healthy) == Desired && !replicas.Any(r => r.Replica.Node == drained))
            {
                break;
            }
            await Task.Delay(20);
        }
        _output.WriteLine($"drain of {drained} ({old.Count} replica(s)) took {Ms(timer.Elapsed)}; {polls} polls; fewest healthy seen {minHealthy} of {Desired}");
        Assert.Equal(old.Count, stopped.Count);
        Assert.Empty(cluster.RunningTasks(drained));
        var after = await AllHealthyAsync(cluster, "every replica healthy after the drain");
        AssertProcessesMatchApi(cluster, after, Nodes);

        // Each step is an event: draining, then each old replica placed anew, stopping and stopped, then drained.
        var events = await cluster.EventsAfterAsync(fromEvent);
        var draining = Assert.Single(events, e => e.Kind == "node.draining" && e.Subject == "node/" + drained);
        var done = Assert.Single(events, e => e.Kind == "node.drained" && e.Subject == "node/" + drained);
        foreach (var id in old)
        {
            var stop = Assert.Single(events, e => e.Kind == "replica.stopped" && e.Subject == "replica/" + id);
            Assert.True(draining.Revision < stop.Revision && stop.Revision < done.Revision, Describe(events));
        }
        Assert.Equal(old.Count, events.Count(e => e.Kind == "replica.placed" && e.Revision > draining.Revision));

        // Ineligible: scaling up places nothing on it.
        await cluster.Client.ScaleAsync("web", Desired + 2, CancellationToken.None);
        var scaled = await AllHealthyAsync(cluster, "the scaled-up service healthy");
        Assert.DoesNotContain(scaled, r => r.Replica.Node == drained && r.Replica.Active);
        Assert.Empty(cluster.RunningTasks(drained));
    }
}
