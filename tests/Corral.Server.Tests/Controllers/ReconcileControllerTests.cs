using Corral.Core.Cluster;
using Corral.Core.Services;
using Corral.Core.Tasks;
using Corral.Server.Controllers;
using Corral.Server.State;
using Corral.Store;

namespace Corral.Server.Tests.Controllers;

/// <summary>The reconcile controller reading the store each pass; <see cref="CachedReconcileControllerTests"/> runs the same with the in-memory cache.</summary>
public class ReconcileControllerTests
{
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
    public async Task ReconcileOnce_DeployOfThreeOnThreeNodes_PlacesOnePerNodeWithEvents()
    {
        await using var h = await NewHarnessAsync();
        await h.AddNodesAsync("a", "b", "c");
        await h.PutServiceAsync(StoreHarness.Service("web", 3));
        var term = await h.LeadAsync();
        var reconciler = h.Reconciler();

        var outcome = await reconciler.ReconcileOnceAsync(term, CancellationToken.None);

        Assert.Equal(3, outcome.Placed);
        Assert.False(outcome.Stale);
        var replicas = await h.ReplicasAsync();
        Assert.Equal(3, replicas.Count);
        Assert.All(replicas, r =>
        {
            Assert.Equal(ReplicaPhase.Assigned, r.Phase);
            Assert.Matches("^web-[0-9a-f]{8}$", r.Id);
            Assert.Equal(StoreHarness.Service("web", 3).Version, r.Version);
            Assert.True(r.CreatedRevision > outcome.SnapshotRevision - 1);
        });
        Assert.Equal(["a", "b", "c"], replicas.Select(r => r.Node!).Order(StringComparer.Ordinal));
        Assert.Equal(3, (await h.EventKindsAsync()).Count(k => k == "replica.placed"));
        Assert.NotNull(await h.Store.GetAsync(ServiceVersions.Key("web", StoreHarness.Service("web", 3).Version)));

        // Converged: the next pass writes nothing.
        var revision = await h.Store.GetRevisionAsync();
        var again = await reconciler.ReconcileOnceAsync(term, CancellationToken.None);
        Assert.True(again.Idle);
        Assert.Equal(revision, await h.Store.GetRevisionAsync());
    }

    [Fact]
    public async Task ReconcileOnce_ScaleDown_StopsNewestFirstThenDeletesOnConfirmation()
    {
        await using var h = await NewHarnessAsync();
        await h.AddNodesAsync("a", "b", "c");
        var term = await h.LeadAsync();
        var reconciler = h.Reconciler();
        await h.PutServiceAsync(StoreHarness.Service("web", 3));
        await reconciler.ReconcileOnceAsync(term, CancellationToken.None);
        var first = (await h.ReplicasAsync()).Select(r => r.Id).ToHashSet();
        await h.PutServiceAsync(StoreHarness.Service("web", 5));
        await reconciler.ReconcileOnceAsync(term, CancellationToken.None);
        var newer = (await h.ReplicasAsync()).Select(r => r.Id).Where(id => !first.Contains(id)).ToHashSet();
        Assert.Equal(2, newer.Count);
        await h.MarkAllHealthyAsync();

        await h.PutServiceAsync(StoreHarness.Service("web", 3));
        var outcome = await reconciler.ReconcileOnceAsync(term, CancellationToken.None);

        Assert.Equal(2, outcome.Stopping);
        var replicas = await h.ReplicasAsync();
        Assert.Equal(newer, replicas.Where(r => r.Phase == ReplicaPhase.Stopping).Select(r => r.Id).ToHashSet());
        Assert.All(replicas.Where(r => first.Contains(r.Id)), r => Assert.Equal(ReplicaPhase.Assigned, r.Phase));
        Assert.Equal(2, (await h.EventKindsAsync()).Count(k => k == "replica.stopping"));
        Assert.True((await reconciler.ReconcileOnceAsync(term, CancellationToken.None)).Idle);
    }

    [Fact]
    public async Task Commit_ReplicaChangedAfterPlanning_IsRefusedAndNothingApplied()
    {
        await using var h = await NewHarnessAsync();
        await h.AddNodesAsync("a", "b", "c");
        var term = await h.LeadAsync();
        var reconciler = h.Reconciler();
        await h.PutServiceAsync(StoreHarness.Service("web", 3));
        await reconciler.ReconcileOnceAsync(term, CancellationToken.None);
        await h.MarkAllHealthyAsync();
        await h.PutServiceAsync(StoreHarness.Service("web", 1));

        var pass = await reconciler.PlanAsync(term, CancellationToken.None);
        Assert.Equal(2, pass.Stopping);
        // A node reports on one of the replicas the plan stops, between planning and committing.
        var victim = (await h.ReplicasAsync()).First(r => r.Id == pass.Plan.Stop[0].ReplicaId);
        await h.SetReplicaAsync(victim with { State = ReplicaState.Unhealthy, Reason = "probe failed" });
        var revision = await h.Store.GetRevisionAsync();

        var outcome = await reconciler.CommitAsync(term, pass, CancellationToken.None);

        Assert.True(outcome.Stale);
        Assert.False(outcome.LeadershipLost);
        Assert.Equal(0, outcome.Committed);
        Assert.Equal(revision, await h.Store.GetRevisionAsync());
        Assert.DoesNotContain(await h.ReplicasAsync(), r => r.Phase == ReplicaPhase.Stopping);

        // Planning again from a fresh read applies.
        var retry = await reconciler.ReconcileOnceAsync(term, CancellationToken.None);
        Assert.False(retry.Stale);
        Assert.Equal(2, (await h.ReplicasAsync()).Count(r => r.Phase == ReplicaPhase.Stopping));
        Assert.Contains(await h.ReplicasAsync(), r => r.Id == victim.Id && r.Phase == ReplicaPhase.Stopping);
    }

    [Fact]
    public async Task Commit_LeadershipMovedAfterPlanning_IsRefusedAndNothingApplied()
    {
        await using var h = await NewHarnessAsync();
        await h.AddNodesAsync("a", "b", "c");
        await h.PutServiceAsync(StoreHarness.Service("web", 3));
        var old = await h.LeadAsync("s1");
        var reconciler = h.Reconciler();
        var pass = await reconciler.PlanAsync(old, CancellationToken.None);
        Assert.Equal(3, pass.Placed);

        await old.Leadership.ResignAsync();
        await using var next = (await h.LeadAsync("s2")).Leadership;
        var revision = await h.Store.GetRevisionAsync();
        var outcome = await reconciler.CommitAsync(old, pass, CancellationToken.None);

        Assert.True(outcome.Stale);
        Assert.True(outcome.LeadershipLost);
        Assert.Equal(revision, await h.Store.GetRevisionAsync());
        Assert.Empty(await h.ReplicasAsync());
        await old.Leadership.DisposeAsync();
    }

    [Fact]
    public async Task NodeDown_AfterEvictionTimeout_ReplicasLostAndReplacedElsewhere()
    {
        await using var h = await NewHarnessAsync();
        await h.AddNodesAsync("a", "b", "c");
        var term = await h.LeadAsync();
        var reconciler = h.Reconciler();
        var monitor = h.Monitor();
        await monitor.EstablishAsync(term, CancellationToken.None);
        await h.PutServiceAsync(StoreHarness.Service("web", 2, eviction: TimeSpan.FromSeconds(10)));
        await reconciler.ReconcileOnceAsync(term, CancellationToken.None);
        var before = await h.ReplicasAsync();
        var victim = before[0].Node!;
        var survivors = new[] { "a", "b", "c" }.Where(n => n != victim).ToArray();

        // The victim stops heartbeating; the others keep going.
        for (var i = 0; i < 6; i++)
        {
            h.Time.Advance(TimeSpan.FromSeconds(1));
            foreach (var node in survivors)
            {
                h.Heartbeats.Touch(node, h.Time.GetUtcNow());
            }
        }
        Assert.Equal(1, await monitor.CheckOnceAsync(term, CancellationToken.None));
        Assert.Equal(NodeStatus.Down, (await h.GetNodeAsync(victim)).Status);
        Assert.Contains("node.down", await h.EventKindsAsync());

        // Down is not lost: before the eviction timeout the replica stays where it is.
        var early = await reconciler.ReconcileOnceAsync(term, CancellationToken.None);
        Assert.Equal(0, early.Lost);
        Assert.Contains(await h.ReplicasAsync(), r => r.Node == victim && r.Phase == ReplicaPhase.Assigned);

        h.Time.Advance(TimeSpan.FromSeconds(10));
        var outcome = await reconciler.ReconcileOnceAsync(term, CancellationToken.None);

        Assert.Equal(1, outcome.Lost);
        Assert.Equal(1, outcome.Placed);
        var after = await h.ReplicasAsync();
        var assigned = after.Where(r => r.Phase == ReplicaPhase.Assigned).ToList();
        Assert.Equal(2, assigned.Count);
        Assert.All(assigned, r => Assert.NotEqual(victim, r.Node));
        var lostReplica = Assert.Single(after, r => r.Phase == ReplicaPhase.Lost);
        Assert.Equal(before[0].Id, lostReplica.Id);
        Assert.Contains("eviction_timeout", lostReplica.Reason, StringComparison.Ordinal);
        Assert.Contains("replica.lost", await h.EventKindsAsync());
        Assert.True((await reconciler.ReconcileOnceAsync(term, CancellationToken.None)).Idle);
    }

    [Fact]
    public async Task NodeMonitor_DownNodeHeartbeats_BecomesReadyWithEvent()
    {
        await using var h = await NewHarnessAsync();
        await h.AddNodesAsync("a");
        var term = await h.LeadAsync();
        var monitor = h.Monitor();
        await monitor.EstablishAsync(term, CancellationToken.None);
        h.Time.Advance(StoreHarness.Options.HeartbeatGrace);
        Assert.Equal(1, await monitor.CheckOnceAsync(term, CancellationToken.None));
        Assert.Equal(NodeStatus.Down, (await h.GetNodeAsync("a")).Status);
        var downSince = (await h.GetNodeAsync("a")).StatusSince;
        Assert.Equal(0, await monitor.CheckOnceAsync(term, CancellationToken.None));

        h.Time.Advance(TimeSpan.FromSeconds(2));
        h.Heartbeats.Touch("a", h.Time.GetUtcNow());
        Assert.Equal(1, await monitor.CheckOnceAsync(term, CancellationToken.None));

        var node = await h.GetNodeAsync("a");
        Assert.Equal(NodeStatus.Ready, node.Status);
        Assert.True(node.StatusSince > downSince);
        Assert.Equal(["node.down", "node.up"], (await h.EventKindsAsync()).Where(k => k.StartsWith("node.", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task NodeMonitor_SteadyHeartbeats_WriteNothing()
    {
        await using var h = await NewHarnessAsync();
        await h.AddNodesAsync("a", "b");
        var term = await h.LeadAsync();
        var monitor = h.Monitor();
        await monitor.EstablishAsync(term, CancellationToken.None);
        var revision = await h.Store.GetRevisionAsync();
        for (var i = 0; i < 30; i++)
        {
            h.Time.Advance(TimeSpan.FromSeconds(1));
            h.Heartbeats.Touch("a", h.Time.GetUtcNow());
            h.Heartbeats.Touch("b", h.Time.GetUtcNow());
            Assert.Equal(0, await monitor.CheckOnceAsync(term, CancellationToken.None));
        }
        Assert.Equal(revision, await h.Store.GetRevisionAsync());
    }

    [Fact]
    public async Task Plan_ThousandReplicas_SplitIntoTransactionsOfAtMost128Operations()
    {
        await using var h = await NewHarnessAsync();
        var nodes = Enumerable.Range(0, 20).Select(i => $"n{i:D2}").ToArray();
        await h.AddNodesAsync(nodes);
        await h.PutServiceAsync(StoreHarness.Service("big", 1000, cpu: 0.01));
        var term = await h.LeadAsync();
        var reconciler = h.Reconciler();

        var pass = await reconciler.PlanAsync(term, CancellationToken.None);

        Assert.Equal(1000, pass.Placed);
        Assert.True(pass.Transactions.Count >= 1000 * 2 / TxnBatcher.MaxOps, $"{pass.Transactions.Count} transactions");
        Assert.All(pass.Transactions, txn =>
        {
            Assert.InRange(txn.Success.Count, 1, TxnBatcher.MaxOps);
            Assert.InRange(txn.Compares.Count, 1, TxnBatcher.MaxOps);
            Assert.Contains(txn.Compares, c => c.Key == term.Key && c.Number == term.LeaseId);
        });
        var outcome = await reconciler.CommitAsync(term, pass, CancellationToken.None);
        Assert.Equal(pass.Transactions.Count, outcome.Committed);
        var replicas = await h.ReplicasAsync();
        Assert.Equal(1000, replicas.Count);
        Assert.All(replicas, r => Assert.Equal(ReplicaPhase.Assigned, r.Phase));
        Assert.Equal(50, replicas.Count(r => r.Node == "n07"));
    }

    [Fact]
    public async Task FailedReplica_IsReplacedAndKeptForInspection()
    {
        await using var h = await NewHarnessAsync();
        await h.AddNodesAsync("a", "b");
        var term = await h.LeadAsync();
        var reconciler = h.Reconciler();
        await h.PutServiceAsync(StoreHarness.Service("web", 2));
        await reconciler.ReconcileOnceAsync(term, CancellationToken.None);
        var failed = (await h.ReplicasAsync())[0];
        await h.SetReplicaAsync(failed with { Phase = ReplicaPhase.Failed, State = ReplicaState.Failed, Reason = "crash loop" });

        var outcome = await reconciler.ReconcileOnceAsync(term, CancellationToken.None);

        Assert.Equal(1, outcome.Placed);
        var replicas = await h.ReplicasAsync();
        Assert.Equal(2, replicas.Count(r => r.Phase == ReplicaPhase.Assigned));
        Assert.Contains(replicas, r => r.Id == failed.Id && r.Phase == ReplicaPhase.Failed);
    }

    [Fact]
    public async Task RunAsync_StoreChange_WakesTheLoopLongBeforeTheInterval()
    {
        await using var h = await NewHarnessAsync();
        await h.AddNodesAsync("a", "b");
        var term = await h.LeadAsync();
        var options = StoreHarness.Options with { ReconcileInterval = TimeSpan.FromSeconds(60) };
        var reconciler = new ReconcileController(h.State, h.Cache, options, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<ReconcileController>.Instance);
        using var stop = new CancellationTokenSource();
        var running = Task.Run(() => reconciler.RunAsync(term, stop.Token));
        try
        {
            // The first pass places one replica; the loop then waits on its 60 s interval, its own commit ignored.
            await h.PutServiceAsync(StoreHarness.Service("web", 1));
            await WaitUntilAsync(async () => (await h.ReplicasAsync()).Count(r => r.Phase == ReplicaPhase.Assigned) == 1);
            await h.PutServiceAsync(StoreHarness.Service("web", 2));
            await WaitUntilAsync(async () => (await h.ReplicasAsync()).Count(r => r.Phase == ReplicaPhase.Assigned) == 2);
        }
        finally
        {
            await stop.CancelAsync();
            await running.ContinueWith(_ => { }, TaskScheduler.Default);
        }
        Assert.True(running.IsCompleted);
    }

    [Fact]
    public async Task Housekeeping_StoppingReplicaOnRemovedNode_DeletedAndOldFailedPruned()
    {
        await using var h = await NewHarnessAsync();
        await h.AddNodesAsync("a");
        await h.PutServiceAsync(StoreHarness.Service("web", 1));
        var term = await h.LeadAsync();
        var version = StoreHarness.Service("web", 1).Version;
        await h.SetReplicaAsync(new Replica { Id = "web-stopping", Service = "web", Version = version, Node = "gone", Phase = ReplicaPhase.Stopping, CreatedRevision = 1 });
        for (var i = 0; i < 5; i++)
        {
            await h.SetReplicaAsync(new Replica { Id = $"web-failed{i}", Service = "web", Version = version, Node = "a", Phase = ReplicaPhase.Failed, CreatedRevision = 10 + i });
        }

        var outcome = await h.Reconciler().ReconcileOnceAsync(term, CancellationToken.None);

        var replicas = await h.ReplicasAsync();
        Assert.DoesNotContain(replicas, r => r.Id == "web-stopping");
        Assert.Equal(["web-failed2", "web-failed3", "web-failed4"], replicas.Where(r => r.Phase == ReplicaPhase.Failed).Select(r => r.Id).Order(StringComparer.Ordinal));
        Assert.Equal(1, replicas.Count(r => r.Phase == ReplicaPhase.Assigned));
        Assert.Equal(3, outcome.Deleted);
        Assert.Contains("replica.stopped", await h.EventKindsAsync());
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), "timed out");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task Commit_PlacementsRefusedMidway_OnlyUnaffectedOnesCommitEveryVersionRecordFirstAndNextPassCompletes()
    {
        await using var h = await NewHarnessAsync();
        await h.AddNodesAsync("a", "b");
        var onA = StoreHarness.Service("on-a", 400, cpu: 0.01) with { Placement = new PlacementSpec { Node = "a" } };
        var onB = StoreHarness.Service("on-b", 400, cpu: 0.01) with { Placement = new PlacementSpec { Node = "b" } };
        await h.PutServiceAsync(onA);
        await h.PutServiceAsync(onB);
        var term = await h.LeadAsync();
        var reconciler = h.Reconciler();
        var pass = await reconciler.PlanAsync(term, CancellationToken.None);
        Assert.Equal(1, pass.Ordered);
        Assert.All(pass.Transactions[0].Success, op => Assert.StartsWith(ServiceVersions.Prefix, Assert.IsType<TxnOp.Put>(op).Key));
        // More placement transactions than are sent at once, so a refusal also stops what is not yet sent.
        Assert.True(pass.Transactions.Count > pass.Ordered + ReconcileController.CommitConcurrency, $"{pass.Transactions.Count} transactions");

        // Node b re-registers between planning and committing: every transaction placing on b is refused.
        await h.PutNodeAsync(await h.GetNodeAsync("b"));
        var outcome = await reconciler.CommitAsync(term, pass, CancellationToken.None);

        Assert.True(outcome.Stale);
        Assert.False(outcome.LeadershipLost);
        Assert.InRange(outcome.Committed, 2, pass.Transactions.Count - 1);
        var committed = await h.ReplicasAsync();
        Assert.NotEmpty(committed);
        Assert.All(committed, r => Assert.Equal(("on-a", "a", ReplicaPhase.Assigned), (r.Service, r.Node, r.Phase)));
        // Both version records were committed before any replica, though every on-b placement was refused.
        Assert.NotNull(await h.Store.GetAsync(ServiceVersions.Key("on-a", onA.Version)));
        Assert.NotNull(await h.Store.GetAsync(ServiceVersions.Key("on-b", onB.Version)));

        var retry = await reconciler.ReconcileOnceAsync(term, CancellationToken.None);
        Assert.False(retry.Stale);
        var replicas = await h.ReplicasAsync();
        Assert.Equal(400, replicas.Count(r => r.Service == "on-a" && r.Node == "a"));
        Assert.Equal(400, replicas.Count(r => r.Service == "on-b" && r.Node == "b"));
        Assert.All(replicas, r => Assert.Equal(ReplicaPhase.Assigned, r.Phase));
    }
}
