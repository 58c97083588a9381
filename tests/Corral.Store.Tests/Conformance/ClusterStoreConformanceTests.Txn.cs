using System.Globalization;

namespace Corral.Store.Tests.Conformance;

public abstract partial class ClusterStoreConformanceTests
{
    [Fact]
    public async Task Txn_CompareOnEachTarget_ChoosesTheRightBranch()
    {
        await using var store = await CreateStoreAsync();
        var p = NewPrefix();
        var key = p + "k";
        var put = await store.PutAsync(key, Bytes("m"));
        await store.PutAsync(key, Bytes("m")); // version 2, same create revision
        var kv = (await store.GetAsync(key))!;

        async Task<bool> Check(Compare compare) => (await store.TxnAsync(Txn.If(compare))).Succeeded;

        Assert.True(await Check(Compare.ValueOf(key, CompareOp.Equal, Bytes("m"))));
        Assert.True(await Check(Compare.ValueOf(key, CompareOp.NotEqual, Bytes("x"))));
        Assert.True(await Check(Compare.ValueOf(key, CompareOp.Greater, Bytes("a"))));
        Assert.True(await Check(Compare.ValueOf(key, CompareOp.Less, Bytes("n"))));
        Assert.False(await Check(Compare.ValueOf(key, CompareOp.Greater, Bytes("m"))));
        Assert.False(await Check(Compare.ValueOf(p + "missing", CompareOp.NotEqual, Bytes("m"))));

        Assert.True(await Check(Compare.ModRevision(key, CompareOp.Equal, kv.ModRevision)));
        Assert.False(await Check(Compare.ModRevision(key, CompareOp.Equal, kv.ModRevision - 1)));
        Assert.True(await Check(Compare.ModRevision(key, CompareOp.Less, kv.ModRevision + 1)));
        Assert.True(await Check(Compare.CreateRevision(key, CompareOp.Equal, put.Revision)));
        Assert.True(await Check(Compare.CreateRevision(key, CompareOp.Less, kv.ModRevision)));
        Assert.True(await Check(Compare.Version(key, CompareOp.Equal, 2)));
        Assert.True(await Check(Compare.Version(key, CompareOp.Greater, 1)));
        Assert.False(await Check(Compare.Version(key, CompareOp.NotEqual, 2)));
        Assert.True(await Check(Compare.LeaseOf(key, CompareOp.Equal, 0)));

        Assert.True(await Check(Compare.Exists(key)));
        Assert.False(await Check(Compare.Missing(key)));
        Assert.True(await Check(Compare.Missing(p + "missing")));
        Assert.False(await Check(Compare.Exists(p + "missing")));
        Assert.True(await Check(Compare.Version(p + "missing", CompareOp.Equal, 0)));
        Assert.True(await Check(Compare.ModRevision(p + "missing", CompareOp.Equal, 0)));

        // Several compares: all must hold.
        Assert.False((await store.TxnAsync(Txn.If(Compare.Exists(key), Compare.Exists(p + "missing")))).Succeeded);
        Assert.True((await store.TxnAsync(Txn.If(Compare.Exists(key), Compare.Missing(p + "missing")))).Succeeded);
    }

    [Fact]
    public async Task Txn_CompareOverAPrefix_HoldsForEveryKeyUnderIt_NoneUnderIsTrueOnlyWithNoKey()
    {
        await using var store = await CreateStoreAsync();
        var p = NewPrefix();
        async Task<bool> Check(Compare compare) => (await store.TxnAsync(Txn.If(compare))).Succeeded;

        Assert.True(await Check(Compare.NoneUnder(p + "live/")));
        await store.PutAsync(p + "lively", Bytes("x")); // shares the characters, not the prefix "live/"
        Assert.True(await Check(Compare.NoneUnder(p + "live/")));
        var first = await store.PutAsync(p + "live/a", Bytes("1"));
        Assert.False(await Check(Compare.NoneUnder(p + "live/")));
        var second = await store.PutAsync(p + "live/b", Bytes("2"));

        // Every key under the prefix must satisfy the compare.
        Assert.True(await Check(Compare.ModRevision(p + "live/", CompareOp.Less, second.Revision + 1) with { WholePrefix = true }));
        Assert.False(await Check(Compare.ModRevision(p + "live/", CompareOp.Equal, first.Revision) with { WholePrefix = true }));
        Assert.True(await Check(Compare.ValueOf(p + "live/", CompareOp.Greater, Bytes("0")) with { WholePrefix = true }));
        Assert.False(await Check(Compare.ValueOf(p + "live/", CompareOp.Equal, Bytes("1")) with { WholePrefix = true }));

        await store.DeleteAsync(p + "live/a");
        await store.DeleteAsync(p + "live/b");
        Assert.True(await Check(Compare.NoneUnder(p + "live/")));
        // A value compare over no key fails, as on one missing key.
        Assert.False(await Check(Compare.ValueOf(p + "live/", CompareOp.NotEqual, Bytes("z")) with { WholePrefix = true }));
    }

    [Fact]
    public async Task Txn_BothBranches_RunTheirOperationsAndReportResults()
    {
        await using var store = await CreateStoreAsync();
        var p = NewPrefix();
        await store.PutAsync(p + "flag", Bytes("on"));
        await store.PutAsync(p + "gone", Bytes("x"));

        var success = await store.TxnAsync(
            Txn.If(Compare.ValueOf(p + "flag", CompareOp.Equal, Bytes("on")))
                .Then(new TxnOp.Put(p + "a", Bytes("A")), new TxnOp.Put(p + "b", Bytes("B")), new TxnOp.Delete(p + "gone"), new TxnOp.Get(p + "flag"))
                .Else(new TxnOp.Put(p + "never", Bytes("!"))));
        Assert.True(success.Succeeded);
        Assert.Equal(4, success.Results.Count);
        var putA = Assert.IsType<TxnOpResult.Put>(success.Results[0]).Result;
        Assert.Equal(success.Revision, putA.Revision);
        var deleted = Assert.IsType<TxnOpResult.Delete>(success.Results[2]).Result;
        Assert.Equal(1, deleted.Deleted);
        Assert.Equal("on", Assert.Single(Assert.IsType<TxnOpResult.Range>(success.Results[3]).Result.Kvs).ValueString);
        // Every key written by one transaction carries its one revision.
        Assert.Equal(success.Revision, (await store.GetAsync(p + "a"))!.ModRevision);
        Assert.Equal(success.Revision, (await store.GetAsync(p + "b"))!.ModRevision);
        Assert.Null(await store.GetAsync(p + "gone"));
        Assert.Null(await store.GetAsync(p + "never"));

        var failure = await store.TxnAsync(
            Txn.If(Compare.ValueOf(p + "flag", CompareOp.Equal, Bytes("off")))
                .Then(new TxnOp.Put(p + "never", Bytes("!")))
                .Else(new TxnOp.Put(p + "c", Bytes("C")), new TxnOp.Range(p, new RangeOptions { Limit = 2 })));
        Assert.False(failure.Succeeded);
        Assert.Equal(2, failure.Results.Count);
        var range = Assert.IsType<TxnOpResult.Range>(failure.Results[1]).Result;
        Assert.Equal(2, range.Kvs.Count);
        Assert.True(range.More);
        Assert.Null(await store.GetAsync(p + "never"));
        Assert.Equal("C", (await store.GetAsync(p + "c"))!.ValueString);

        var readOnly = await store.TxnAsync(Txn.If(Compare.Missing(p + "flag")).Else(new TxnOp.Get(p + "a")));
        Assert.False(readOnly.Succeeded);
        Assert.True(readOnly.Revision >= failure.Revision);
        Assert.Equal("A", Assert.Single(Assert.IsType<TxnOpResult.Range>(readOnly.Results[0]).Result.Kvs).ValueString);
    }

    [Fact]
    public async Task Txn_WithUnknownLeaseInTheBranch_WritesNothing()
    {
        await using var store = await CreateStoreAsync();
        var p = NewPrefix();
        await store.PutAsync(p + "existing", Bytes("before"));
        var grant = await store.GrantLeaseAsync(TimeSpan.FromSeconds(30));
        await store.RevokeLeaseAsync(grant.Id);

        var e = await Assert.ThrowsAsync<LeaseNotFoundException>(() => store.TxnAsync(
            Txn.If().Then(
                new TxnOp.Put(p + "first", Bytes("1")),
                new TxnOp.Delete(p + "existing"),
                new TxnOp.Put(p + "leased", Bytes("2"), grant.Id))));
        Assert.Equal(grant.Id, e.LeaseId);
        Assert.Null(await store.GetAsync(p + "first"));
        Assert.Null(await store.GetAsync(p + "leased"));
        Assert.Equal("before", (await store.GetAsync(p + "existing"))!.ValueString);
    }

    [Fact]
    public async Task Txn_CompareAndSwapFrom8Writers_LosesNoUpdate()
    {
        await using var store = await CreateStoreAsync();
        var counter = NewPrefix() + "counter";
        await store.PutAsync(counter, Bytes("0"));
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));

        async Task WriterAsync()
        {
            var current = (await store.GetAsync(counter, cts.Token))!;
            for (var done = 0; done < 500;)
            {
                var next = long.Parse(current.ValueString, CultureInfo.InvariantCulture) + 1;
                var result = await store.TxnAsync(
                    Txn.If(Compare.ModRevision(counter, CompareOp.Equal, current.ModRevision))
                        .Then(new TxnOp.Put(counter, Bytes(next.ToString(CultureInfo.InvariantCulture))))
                        .Else(new TxnOp.Get(counter)),
                    cts.Token);
                if (result.Succeeded)
                {
                    done++;
                    current = current with { Value = Bytes(next.ToString(CultureInfo.InvariantCulture)), ModRevision = result.Revision };
                }
                else
                {
                    // The failure branch hands back the current value: no extra read before retrying.
                    current = Assert.Single(Assert.IsType<TxnOpResult.Range>(Assert.Single(result.Results)).Result.Kvs);
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(WriterAsync)));
        var final = await store.GetAsync(counter);
        Assert.Equal("4000", final!.ValueString);
        Assert.Equal(4001, final.Version);
    }
}
