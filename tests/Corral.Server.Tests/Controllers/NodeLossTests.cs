using Corral.Core.Cluster;
using Corral.Server.Controllers;
using Corral.Server.State;

namespace Corral.Server.Tests.Controllers;

/// <summary>How long a lost node's replicas wait: the eviction timeout counts from the node's last heartbeat.</summary>
public sealed class NodeLossTests
{
    [Fact]
    public async Task NodeMonitor_NodeFallsSilent_DownSinceItsLastHeartbeat()
    {
        await using var h = new StoreHarness();
        await h.AddNodesAsync("a");
        var term = await h.LeadAsync();
        var monitor = h.Monitor();
        await monitor.EstablishAsync(term, CancellationToken.None);
        h.Time.Advance(TimeSpan.FromSeconds(1));
        var lastHeartbeat = h.Time.GetUtcNow();
        h.Heartbeats.Touch("a", lastHeartbeat);

        h.Time.Advance(StoreHarness.Options.HeartbeatGrace + TimeSpan.FromMilliseconds(700));
        Assert.Equal(1, await monitor.CheckOnceAsync(term, CancellationToken.None));

        var node = await h.GetNodeAsync("a");
        Assert.Equal(NodeStatus.Down, node.Status);
        Assert.Equal(lastHeartbeat, node.StatusSince);
    }

    [Fact]
    public async Task NodeDown_EvictionCountsFromTheLastHeartbeat_NotFromWhenTheMonitorNoticed()
    {
        var eviction = TimeSpan.FromSeconds(10);
        await using var h = new StoreHarness();
        await h.AddNodesAsync("a", "b");
        var term = await h.LeadAsync();
        var reconciler = h.Reconciler();
        var monitor = h.Monitor();
        await monitor.EstablishAsync(term, CancellationToken.None);
        await h.PutServiceAsync(StoreHarness.Service("web", 2, eviction: eviction));
        await reconciler.ReconcileOnceAsync(term, CancellationToken.None);
        await h.MarkAllHealthyAsync();
        h.Heartbeats.Touch("a", h.Time.GetUtcNow());
        h.Heartbeats.Touch("b", h.Time.GetUtcNow());
        var victim = (await h.ReplicasAsync())[0].Node!;
        var survivor = victim == "a" ? "b" : "a";
        var lastHeartbeat = h.Time.GetUtcNow();

        // The monitor notices late (a slow check); the replicas still go at last heartbeat + eviction_timeout.
        for (var i = 0; i < 8; i++)
        {
            h.Time.Advance(TimeSpan.FromSeconds(1));
            h.Heartbeats.Touch(survivor, h.Time.GetUtcNow());
        }
        Assert.Equal(1, await monitor.CheckOnceAsync(term, CancellationToken.None));
        var snapshot = await h.State.ReadAsync(CancellationToken.None);
        Assert.Equal(lastHeartbeat + eviction, ReconcileController.NextEviction(snapshot, h.Time.GetUtcNow()));

        h.Time.Advance(lastHeartbeat + eviction - h.Time.GetUtcNow() - TimeSpan.FromMilliseconds(1));
        Assert.Equal(0, (await reconciler.ReconcileOnceAsync(term, CancellationToken.None)).Lost);
        h.Time.Advance(TimeSpan.FromMilliseconds(1));
        var outcome = await reconciler.ReconcileOnceAsync(term, CancellationToken.None);

        Assert.Equal(1, outcome.Lost);
        Assert.Null(ReconcileController.NextEviction(await h.State.ReadAsync(CancellationToken.None), h.Time.GetUtcNow()));
        Assert.All((await h.ReplicasAsync()).Where(r => r.Phase == ReplicaPhase.Assigned), r => Assert.Equal(survivor, r.Node));
    }

    /// <summary>
    /// Issue 22 item 3: one guarded record decides. While any server holds the node's liveness key (it vouched for a
    /// heartbeat that the agent counts as contact), the leader must not mark the node down, whatever its own, possibly
    /// lagging, view of the node's heartbeats says; once the key is gone it does, backdated as before.
    /// </summary>
    [Fact]
    public async Task NodeMonitor_ALivenessKeyInTheStore_NotMarkedDown_UntilTheKeyIsGone()
    {
        await using var h = new StoreHarness();
        await h.AddNodesAsync("a", "ab");
        var term = await h.LeadAsync();
        var monitor = h.Monitor();
        await monitor.EstablishAsync(term, CancellationToken.None);
        var lastHeartbeat = h.Time.GetUtcNow();
        h.Heartbeats.Touch("a", lastHeartbeat);
        h.Heartbeats.Touch("ab", lastHeartbeat);
        // Another server vouched for a heartbeat of 'a' that this leader has not heard of yet. ('ab' shares the
        // characters of the name, not the key prefix.)
        await h.Store.PutAsync(Keys.NodeLiveness("a", "s2"), "s2"u8.ToArray());

        h.Time.Advance(StoreHarness.Options.HeartbeatGrace + TimeSpan.FromSeconds(1));
        Assert.Equal(1, await monitor.CheckOnceAsync(term, CancellationToken.None));
        Assert.Equal(NodeStatus.Ready, (await h.GetNodeAsync("a")).Status);
        Assert.Equal(NodeStatus.Down, (await h.GetNodeAsync("ab")).Status);

        await h.Store.DeleteAsync(Keys.NodeLiveness("a", "s2"));
        Assert.Equal(1, await monitor.CheckOnceAsync(term, CancellationToken.None));
        var node = await h.GetNodeAsync("a");
        Assert.Equal(NodeStatus.Down, node.Status);
        Assert.Equal(lastHeartbeat, node.StatusSince);
    }
}
