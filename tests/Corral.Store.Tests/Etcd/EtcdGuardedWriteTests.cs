using System.Text;
using Corral.Store.Etcd;
using Corral.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Corral.Store.Tests.Etcd;

/// <summary>
/// Writes whose raft leader vanishes mid-proposal (issue 22: a write through a healthy server answered 503 "may or may
/// not have been applied" when the cut server held etcd's leader). A transaction that can apply at most once is sent
/// again after a short deadline and lands; one that could apply twice is not.
/// </summary>
public sealed class EtcdGuardedWriteTests
{
    [Fact]
    public void AppliesAtMostOnce_OnlyWhenSuccessInvalidatesACompare_AndTheFailureBranchOnlyReads()
    {
        var put = new TxnOp.Put("/k", "v"u8.ToArray());
        Assert.True(EtcdStore.AppliesAtMostOnce(Txn.If(Compare.Missing("/k")).Then(put)));
        Assert.True(EtcdStore.AppliesAtMostOnce(Txn.If(Compare.ModRevision("/k", CompareOp.Equal, 7)).Then(put).Else(new TxnOp.Get("/k"))));
        Assert.True(EtcdStore.AppliesAtMostOnce(Txn.If(Compare.Version("/k", CompareOp.Equal, 2), Compare.LeaseOf("/leader", CompareOp.Equal, 5)).Then(new TxnOp.Delete("/k"))));
        Assert.True(EtcdStore.AppliesAtMostOnce(Txn.If(Compare.ModRevision("/d/k", CompareOp.Equal, 7)).Then(new TxnOp.DeletePrefix("/d/"))));

        Assert.False(EtcdStore.AppliesAtMostOnce(Txn.If().Then(put)));
        Assert.False(EtcdStore.AppliesAtMostOnce(Txn.If(Compare.ModRevision("/other", CompareOp.Equal, 7)).Then(put)));
        Assert.False(EtcdStore.AppliesAtMostOnce(Txn.If(Compare.ModRevision("/k", CompareOp.Less, 7)).Then(put)));
        Assert.False(EtcdStore.AppliesAtMostOnce(Txn.If(Compare.CreateRevision("/k", CompareOp.Equal, 3)).Then(put)));
        Assert.False(EtcdStore.AppliesAtMostOnce(Txn.If(Compare.Missing("/k")).Then(put).Else(new TxnOp.Put("/log", "x"u8.ToArray()))));
        Assert.False(EtcdStore.AppliesAtMostOnce(Txn.If(Compare.NoneUnder("/k")).Then(put)));
    }

    [Fact]
    public async Task GuardedWrite_SentWhileTheEtcdLeaderFreezes_LandsOnce_AfterTheNewLeaderIsElected()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var ct = cts.Token;
        await using var cluster = await EtcdCluster.StartAsync(3, ct, new EtcdClusterOptions
        {
            HeartbeatInterval = TimeSpan.FromMilliseconds(50),
            ElectionTimeout = TimeSpan.FromMilliseconds(500),
            ExtraArguments = ["--pre-vote"],
        });
        var leader = await cluster.WaitForLeaderAsync(ct);
        var followers = Enumerable.Range(0, 3).Where(i => i != leader).Select(i => cluster.ClientUrls[i]).ToList();
        // Only followers: a proposal goes to one of them, which forwards it to the leader it knows.
        await using var store = new EtcdStore(new EtcdStoreOptions { Endpoints = followers }, TimeProvider.System, NullLogger<EtcdStore>.Instance);
        await store.PutAsync("/warm", "w"u8.ToArray(), cancellationToken: ct);

        cluster.Freeze(leader);
        try
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            var result = await store.TxnAsync(Txn.If(Compare.Missing("/guarded")).Then(new TxnOp.Put("/guarded", Encoding.UTF8.GetBytes("once"))), ct);
            Assert.True(result.Succeeded, "the guarded write did not land");
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(8), $"the guarded write took {watch.Elapsed.TotalSeconds:0.0} s");
            var kv = await store.GetAsync("/guarded", ct);
            Assert.Equal(1, kv!.Version);
        }
        finally
        {
            cluster.Thaw(leader);
        }
    }

    /// <summary>
    /// Calls that went to another member after a failure stay there; when that member then goes silent, a keep-alive
    /// answered by another member through the hedge must move calls off it (before, every later renewal waited for
    /// the hedge, which left the VIP's kernel lifetime no time: a new leader whose store still spoke to the cut
    /// leader's member never held the VIP in the lab). Once the first endpoint answers a status probe, calls go back to it.
    /// </summary>
    [Fact]
    public async Task KeepAlive_PreferredMemberSilent_AnotherAnswersTheHedge_CallsMoveOn_ThenBackToTheFirstOnceItAnswers()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var ct = cts.Token;
        await using var cluster = await EtcdCluster.StartAsync(3, ct, new EtcdClusterOptions
        {
            HeartbeatInterval = TimeSpan.FromMilliseconds(50),
            ElectionTimeout = TimeSpan.FromMilliseconds(500),
            ExtraArguments = ["--pre-vote"],
        });
        var leader = await cluster.WaitForLeaderAsync(ct);
        var followers = Enumerable.Range(0, 3).Where(i => i != leader).ToList();
        await using var store = new EtcdStore(new EtcdStoreOptions { Endpoints = [cluster.ClientUrls[followers[0]], cluster.ClientUrls[followers[1]], cluster.ClientUrls[leader]] }, TimeProvider.System, NullLogger<EtcdStore>.Instance);
        var lease = await store.GrantLeaseAsync(TimeSpan.FromSeconds(10), ct);
        // Calls moved to the second endpoint after some failure.
        store.FailOver(0, new Corral.Store.Etcd.Grpc.GrpcException(Corral.Store.Etcd.Grpc.GrpcStatusCode.Unavailable, "test: moved on"));
        Assert.Equal(cluster.ClientUrls[followers[1]], store.CurrentEndpoint);
        await store.KeepAliveOnceAsync(lease.Id, ct);

        cluster.Freeze(followers[1]);
        try
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            await store.KeepAliveOnceAsync(lease.Id, ct);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"the keep-alive took {watch.Elapsed.TotalSeconds:0.00} s");
            Assert.NotEqual(cluster.ClientUrls[followers[1]], store.CurrentEndpoint);
            watch.Restart();
            await store.KeepAliveOnceAsync(lease.Id, ct);
            Assert.True(watch.Elapsed < EtcdStore.KeepAliveHedgeAfter, $"the next keep-alive still waited {watch.Elapsed.TotalMilliseconds:0} ms");
        }
        finally
        {
            cluster.Thaw(followers[1]);
        }

        store.FailOver(Array.IndexOf(store.Endpoints.ToArray(), store.CurrentEndpoint), new Corral.Store.Etcd.Grpc.GrpcException(Corral.Store.Etcd.Grpc.GrpcStatusCode.Unavailable, "test: moved on again"));
        await Eventually.ValueAsync(async () => (await store.ProbeMembersAsync(ct)).Members.All(m => m.Healthy) ? "all" : null, TimeSpan.FromSeconds(30), "every member to answer");
        Assert.Equal(cluster.ClientUrls[followers[0]], store.CurrentEndpoint);
    }
}
