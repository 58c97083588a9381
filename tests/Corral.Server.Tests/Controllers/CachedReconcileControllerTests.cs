using Corral.Core.Cluster;

namespace Corral.Server.Tests.Controllers;

/// <summary>Every reconcile controller test again, planning from the watch-fed in-memory cache instead of store reads.</summary>
public sealed class CachedReconcileControllerTests : ReconcileControllerTests
{
    protected override bool UseCache => true;

    [Fact]
    public async Task Cache_AfterWrites_SnapshotAtTheStoreRevisionWithExactModRevisions()
    {
        await using var h = new StoreHarness();
        await h.StartCacheAsync();
        await h.AddNodesAsync("a", "b");
        await h.PutServiceAsync(StoreHarness.Service("web", 2));
        var term = await h.LeadAsync();
        await h.Reconciler().ReconcileOnceAsync(term, CancellationToken.None);
        var revision = await h.Store.GetRevisionAsync();

        var cached = await h.Cache!.TrySnapshotAsync(revision, TimeSpan.FromSeconds(30), CancellationToken.None);

        Assert.NotNull(cached);
        var fromStore = await h.State.ReadAsync(CancellationToken.None);
        Assert.Equal(fromStore.Revision, cached.Value.Snapshot.Revision);
        Assert.Equal(
            fromStore.Replicas.Select(r => (r.Key, r.Value.ModRevision, r.Value.Value.Node, r.Value.Value.Phase)).Order(),
            cached.Value.Snapshot.Replicas.Select(r => (r.Key, r.Value.ModRevision, r.Value.Value.Node, r.Value.Value.Phase)).Order());
        Assert.Equal(fromStore.Nodes["a"].ModRevision, cached.Value.Snapshot.Nodes["a"].ModRevision);
        Assert.Equal(fromStore.Services["web"].ModRevision, cached.Value.Snapshot.Services["web"].ModRevision);
        Assert.Single(cached.Value.VersionKeys);
        Assert.All(cached.Value.Snapshot.Replicas.Values, r => Assert.Equal(ReplicaPhase.Assigned, r.Value.Phase));
    }
}
