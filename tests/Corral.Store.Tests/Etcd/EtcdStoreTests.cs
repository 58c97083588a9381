using System.Text;
using Corral.Store.Etcd;

namespace Corral.Store.Tests.Etcd;

/// <summary>etcd-specific behaviour of <see cref="EtcdStore"/> on one member (the shared contract is the conformance suite's).</summary>
public sealed class EtcdStoreTests(EtcdSingleMemberFixture etcd) : IClassFixture<EtcdSingleMemberFixture>
{
    private static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    private static ReadOnlyMemory<byte> B(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public async Task Kv_PutGetRangeDeleteTxn_MapToEtcdSemantics()
    {
        await using var store = etcd.CreateStore();
        var ct = Timeout();
        var p = "/kv-" + Guid.NewGuid().ToString("N") + "/";
        var first = await store.PutAsync(p + "a", B("1"), cancellationToken: ct);
        Assert.Null(first.Previous);
        var second = await store.PutAsync(p + "a", B("2"), cancellationToken: ct);
        Assert.Equal("1", second.Previous!.ValueString);
        Assert.Equal(first.Revision + 1, second.Revision);
        await store.PutAsync(p + "b", B("3"), cancellationToken: ct);
        await store.PutAsync(p + "c", B("4"), cancellationToken: ct);

        var a = await store.GetAsync(p + "a", ct);
        Assert.Equal(("2", first.Revision, second.Revision, 2L), (a!.ValueString, a.CreateRevision, a.ModRevision, a.Version));
        Assert.Null(await store.GetAsync(p + "zz", ct));

        var all = await store.RangeAsync(p, cancellationToken: ct);
        Assert.Equal([p + "a", p + "b", p + "c"], all.Kvs.Select(k => k.Key));
        var paged = await store.RangeAsync(p, new RangeOptions { After = p + "a", Limit = 1 }, ct);
        Assert.Equal(p + "b", Assert.Single(paged.Kvs).Key);
        Assert.True(paged.More);
        var past = await store.RangeAsync(p, new RangeOptions { Revision = first.Revision }, ct);
        Assert.Equal("1", Assert.Single(past.Kvs).ValueString);

        var txn = await store.TxnAsync(
            Txn.If(Compare.ModRevision(p + "a", CompareOp.Equal, second.Revision), Compare.Missing(p + "new"))
                .Then(new TxnOp.Put(p + "new", B("n")), new TxnOp.Get(p + "a"), new TxnOp.Range(p, new RangeOptions { KeysOnly = true })),
            ct);
        Assert.True(txn.Succeeded);
        Assert.Equal(3, txn.Results.Count);
        var failed = await store.TxnAsync(Txn.If(Compare.ValueOf(p + "a", CompareOp.Equal, B("nope"))).Else(new TxnOp.Delete(p + "b")), ct);
        Assert.False(failed.Succeeded);
        Assert.Equal(1, Assert.IsType<TxnOpResult.Delete>(Assert.Single(failed.Results)).Result.Deleted);

        var deleted = await store.DeletePrefixAsync(p, ct);
        Assert.Equal(3, deleted.Deleted);
        var none = await store.DeleteAsync(p + "a", ct);
        Assert.Equal(0, none.Deleted);
        Assert.Equal(deleted.Revision, none.Revision);
    }

    [Fact]
    public async Task Watch_FromPastRevision_OneBatchPerRevisionWithPrevious()
    {
        await using var store = etcd.CreateStore();
        var ct = Timeout();
        var p = "/w-" + Guid.NewGuid().ToString("N") + "/";
        var start = (await store.PutAsync(p + "x", B("1"), cancellationToken: ct)).Revision;
        await store.TxnAsync(Txn.If().Then(new TxnOp.Put(p + "y", B("y")), new TxnOp.Put(p + "x", B("2"))), ct);
        await store.DeletePrefixAsync(p, ct);
        var batches = new List<WatchBatch>();
        await foreach (var batch in store.WatchAsync(p, start, ct))
        {
            batches.Add(batch);
            if (batches.Count == 3)
            {
                break;
            }
        }
        Assert.Equal([start, start + 1, start + 2], batches.Select(b => b.Revision));
        Assert.Equal(2, batches[1].Events.Count);
        Assert.Equal("1", batches[1].Events.Single(e => e.Kv.Key == p + "x").Previous!.ValueString);
        Assert.All(batches[2].Events, e => Assert.Equal(WatchEventType.Delete, e.Type));
    }

    [Fact]
    public async Task Leases_GrantKeepAliveRevoke_AttachedKeysDeleted()
    {
        await using var store = etcd.CreateStore();
        var ct = Timeout();
        var p = "/l-" + Guid.NewGuid().ToString("N") + "/";
        var lease = await store.GrantLeaseAsync(TimeSpan.FromSeconds(30), ct);
        await store.PutAsync(p + "k", B("v"), lease.Id, ct);
        var info = await store.KeepAliveOnceAsync(lease.Id, ct);
        Assert.Equal(TimeSpan.FromSeconds(30), info.Granted);
        var ttl = await store.GetLeaseAsync(lease.Id, ct);
        Assert.Equal([p + "k"], ttl!.Keys);
        await store.RevokeLeaseAsync(lease.Id, ct);
        Assert.Null(await store.GetAsync(p + "k", ct));
        Assert.Null(await store.GetLeaseAsync(lease.Id, ct));
        await Assert.ThrowsAsync<LeaseNotFoundException>(() => store.KeepAliveOnceAsync(lease.Id, ct));
        await Assert.ThrowsAsync<LeaseNotFoundException>(() => store.RevokeLeaseAsync(lease.Id, ct));
        await Assert.ThrowsAsync<LeaseNotFoundException>(() => store.PutAsync(p + "k", B("v"), lease.Id, ct));
    }

    [Fact]
    public async Task Compact_ThenPastReadAndWatch_ThrowCompactedWithRevision()
    {
        await using var store = etcd.CreateStore();
        var ct = Timeout();
        var p = "/c-" + Guid.NewGuid().ToString("N") + "/";
        var old = (await store.PutAsync(p + "a", B("1"), cancellationToken: ct)).Revision;
        var at = (await store.PutAsync(p + "a", B("2"), cancellationToken: ct)).Revision;
        await store.CompactAsync(at, ct);
        var read = await Assert.ThrowsAsync<StoreCompactedException>(() => store.RangeAsync(p, new RangeOptions { Revision = old }, ct));
        Assert.True(read.CompactedRevision >= at);
        await Assert.ThrowsAsync<StoreCompactedException>(async () =>
        {
            await foreach (var _ in store.WatchAsync(p, old, ct))
            {
            }
        });
        // A second store that did not compact learns the compaction revision from etcd.
        await using var other = etcd.CreateStore();
        var learned = await Assert.ThrowsAsync<StoreCompactedException>(() => other.RangeAsync(p, new RangeOptions { Revision = old }, ct));
        Assert.True(learned.CompactedRevision >= at);
        await Assert.ThrowsAsync<ArgumentException>(() => store.CompactAsync(at + 1000, ct));
        var status = await other.GetStatusAsync(ct);
        Assert.True(status.CompactedRevision >= at);
        var member = Assert.Single(status.Members);
        Assert.True(member.Healthy && member.IsLeader);
        Assert.True(status.DbSizeBytes > 0);
    }
}
