using System.Text;
using Corral.Store.Etcd;
using Corral.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Corral.Store.Tests.Etcd;

/// <summary>The store learning its endpoints from etcd's member list (like clientv3's auto-sync).</summary>
public sealed class EtcdEndpointSyncTests
{
    [Fact]
    public async Task SyncEndpoints_KnowingOneMember_LearnsAllOwnFirst_ThenSurvivesThatMembersDeath()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var ct = cts.Token;
        await using var cluster = await EtcdCluster.StartAsync(3, ct);
        var own = cluster.ClientUrls[1];
        await using var store = new EtcdStore(new EtcdStoreOptions { Endpoints = [own], RetryTimeout = TimeSpan.FromSeconds(30) }, TimeProvider.System, NullLogger<EtcdStore>.Instance);

        var endpoints = await store.SyncEndpointsAsync(cancellationToken: ct);

        Assert.Equal(own, endpoints[0]);
        Assert.Equal(cluster.ClientUrls.Order(), endpoints.Order());
        Assert.Equal(endpoints, store.Endpoints);
        Assert.False(store.UseEndpoints([.. endpoints]), "the same list again is no change");

        // The only member it was configured with dies: calls fail over to the members it learned.
        await cluster.KillAsync(1, ct);
        // A put forwarded to the dead member (when it led etcd) may fail as "may or may not have been applied": try again.
        await Eventually.ValueAsync(async () =>
        {
            try
            {
                return await store.PutAsync("/sync/after-kill", Encoding.UTF8.GetBytes("v"), 0, ct);
            }
            catch (StoreUnavailableException)
            {
                return null;
            }
        }, TimeSpan.FromSeconds(60), "a put through the members the store learned");
        Assert.Equal("v", (await store.GetAsync("/sync/after-kill", ct))!.ValueString);
        Assert.NotEqual(own, store.CurrentEndpoint);
    }

    [Fact]
    public async Task SyncEndpoints_MemberRemoved_DroppedFromTheList_PreferredStaysFirst()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var ct = cts.Token;
        await using var cluster = await EtcdCluster.StartAsync(3, ct);
        await using var store = new EtcdStore(new EtcdStoreOptions { Endpoints = [.. cluster.ClientUrls] }, TimeProvider.System, NullLogger<EtcdStore>.Instance);
        var members = await store.ListMembersAsync(ct);
        var gone = members.Single(m => m.ClientUrls.Contains(cluster.ClientUrls[2]));
        await cluster.StopAsync(2, ct);
        await store.RemoveMemberAsync(gone.Id, ct);

        var endpoints = await store.SyncEndpointsAsync(cluster.ClientUrls[1], ct);

        Assert.Equal([cluster.ClientUrls[1], cluster.ClientUrls[0]], endpoints);
    }

    [Fact]
    public void MergeEndpoints_KeepsPreferredAndKnownOrder_AppendsNew_DropsRemovedAndOtherSchemes()
    {
        var merged = EtcdStore.MergeEndpoints(
            "http://lb:2379",
            ["http://lb:2379", "http://b:2379", "http://a:2379", "http://gone:2379"],
            ["http://a:2379/", "http://c:2379", "https://d:2379", "http://b:2379", "http://c:2379"]);

        Assert.Equal(["http://lb:2379", "http://b:2379", "http://a:2379", "http://c:2379"], merged);
    }

    [Fact]
    public async Task UseEndpoints_BadOrOtherScheme_ThrowsNamingIt_AndKeepsTheList()
    {
        await using var store = new EtcdStore(new EtcdStoreOptions { Endpoints = ["http://127.0.0.1:1"] }, TimeProvider.System, NullLogger<EtcdStore>.Instance);

        var bad = Assert.Throws<ArgumentException>(() => store.UseEndpoints(["http://127.0.0.1:1", "not a url"]));
        Assert.Contains("'not a url'", bad.Message, StringComparison.Ordinal);
        var scheme = Assert.Throws<ArgumentException>(() => store.UseEndpoints(["https://127.0.0.1:2"]));
        Assert.Contains("https://127.0.0.1:2", scheme.Message, StringComparison.Ordinal);
        Assert.Equal(["http://127.0.0.1:1"], store.Endpoints);
    }
}
