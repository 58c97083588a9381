using Corral.Core.Cluster;
using Corral.Core.Tasks;
using Corral.Server.State;
using Corral.Store;

namespace Corral.Server.Tests.Controllers;

/// <summary>
/// Draining a node through the reconcile controller on a real SQLite store, with the nodes' part played by the test;
/// <see cref="CachedDrainTests"/> runs the same planning from the in-memory cache.
/// </summary>
public class DrainTests
{
    private const int Desired = 4;

    protected virtual bool UseCache => false;

    private async Task<StoreHarness> NewHarnessAsync()
    {
        var harness = new StoreHarness();
        if (UseCache)
        {
            await harness.StartCacheAsync();
        }
        return harness;
    }

    [Fact]
    public async Task Drain_MovesReplicasOneAtATime_NeverBelowDesiredMinusOne_ThenMarksDrained()
    {
        await using var h = await NewHarnessAsync();
        await h.AddNodesAsync("a", "b");
        await h.PutServiceAsync(StoreHarness.Service("web", Desired));
        var term = await h.LeadAsync();
        var reconciler = h.Reconciler();
        await reconciler.ReconcileOnceAsync(term, CancellationToken.None);
        await h.MarkAllHealthyAsync();
        await h.AddNodesAsync("c");
        var onA = (await h.ReplicasAsync()).Where(r => r.Node == "a").Select(r => r.Id).ToHashSet();
        Assert.True(onA.Count >= 2, $"the test needs at least two replicas on node a; got {onA.Count}");
        var original = (await h.ReplicasAsync()).Select(r => r.Id).ToHashSet();

        await h.PutNodeAsync(await h.GetNodeAsync("a") with { Eligible = false, Draining = true });

        var minHealthy = int.MaxValue;
        var maxStartingNew = 0;
        async Task CheckAsync()
        {
            var replicas = await h.ReplicasAsync();
            minHealthy = Math.Min(minHealthy, replicas.Count(r => r.Healthy));
            maxStartingNew = Math.Max(maxStartingNew, replicas.Count(r => !original.Contains(r.Id) && r.Phase == ReplicaPhase.Assigned && !r.Healthy));
            Assert.DoesNotContain(replicas, r => r.Node == "a" && !original.Contains(r.Id));
            if (replicas.Any(r => r.Node == "a" && r.Active))
            {
                Assert.True((await h.GetNodeAsync("a")).Draining, "node a was marked drained while replicas remained on it");
            }
        }

        for (var step = 0; step < 30 && (await h.GetNodeAsync("a")).Draining; step++)
        {
            await reconciler.ReconcileOnceAsync(term, CancellationToken.None);
            await CheckAsync();
            // The nodes confirm stops...
            foreach (var stopping in (await h.ReplicasAsync()).Where(r => r.Phase == ReplicaPhase.Stopping))
            {
                await h.Store.DeleteAsync(Keys.Replica(stopping.Id));
            }
            await CheckAsync();
            // ...and report new replicas healthy.
            await h.MarkAllHealthyAsync();
            await CheckAsync();
        }

        var node = await h.GetNodeAsync("a");
        Assert.False(node.Draining);
        Assert.False(node.Eligible);
        var final = await h.ReplicasAsync();
        Assert.Equal(Desired, final.Count(r => r.Healthy));
        Assert.DoesNotContain(final, r => r.Node == "a");
        // The promise is desired − 1; with a surge of one, the count never drops below desired here.
        Assert.True(minHealthy >= Desired - 1, $"healthy replicas dropped to {minHealthy} (desired {Desired})");
        Assert.Equal(1, maxStartingNew);
        var kinds = await h.EventKindsAsync();
        Assert.Single(kinds, k => k == "node.drained");
        Assert.Equal(onA.Count, kinds.Count(k => k == "replica.stopping"));
        Assert.True((await reconciler.ReconcileOnceAsync(term, CancellationToken.None)).Idle);
    }

    [Fact]
    public async Task RemovedNode_ItsReplicasAreLost_AndReplacedElsewhere()
    {
        await using var h = await NewHarnessAsync();
        await h.AddNodesAsync("a", "b", "c");
        await h.PutServiceAsync(StoreHarness.Service("web", 3));
        var term = await h.LeadAsync();
        var reconciler = h.Reconciler();
        await reconciler.ReconcileOnceAsync(term, CancellationToken.None);
        await h.MarkAllHealthyAsync();
        var onB = Assert.Single(await h.ReplicasAsync(), r => r.Node == "b");

        await h.Store.DeleteAsync(Keys.Node("b"));
        var outcome = await reconciler.ReconcileOnceAsync(term, CancellationToken.None);

        Assert.Equal(1, outcome.Lost);
        var replicas = await h.ReplicasAsync();
        Assert.Equal(ReplicaPhase.Lost, Assert.Single(replicas, r => r.Id == onB.Id).Phase);
        Assert.Equal(3, replicas.Count(r => r.Phase == ReplicaPhase.Assigned && r.Node is "a" or "c"));
    }

    [Fact]
    public async Task DrainingNodeWithoutReplicas_IsMarkedDrainedOnce()
    {
        await using var h = await NewHarnessAsync();
        await h.AddNodesAsync("a");
        await h.PutNodeAsync(await h.GetNodeAsync("a") with { Eligible = false, Draining = true });
        var term = await h.LeadAsync();
        var reconciler = h.Reconciler();

        await reconciler.ReconcileOnceAsync(term, CancellationToken.None);
        await reconciler.ReconcileOnceAsync(term, CancellationToken.None);

        var node = await h.GetNodeAsync("a");
        Assert.False(node.Draining);
        Assert.False(node.Eligible);
        Assert.Single(await h.EventKindsAsync(), k => k == "node.drained");
    }
}
