using System.Globalization;

namespace Corral.Store.Tests.Conformance;

public abstract partial class ClusterStoreConformanceTests
{
    /// <summary>Watches <paramref name="prefix"/> from <paramref name="from"/> until <paramref name="count"/> events arrived.</summary>
    protected static async Task<List<(long Revision, WatchEvent Event)>> CollectAsync(IClusterStore store, string prefix, long from, int count, CancellationToken cancellationToken)
    {
        var events = new List<(long, WatchEvent)>();
        await foreach (var batch in store.WatchAsync(prefix, from, cancellationToken))
        {
            events.AddRange(batch.Events.Select(e => (batch.Revision, e)));
            if (events.Count >= count)
            {
                break;
            }
        }
        return events;
    }

    [Fact]
    public async Task Watch_PutsAndDeletes_DeliverBatchesPerRevisionWithPreviousValues()
    {
        await using var store = await CreateStoreAsync();
        var p = NewPrefix();
        var from = await store.GetRevisionAsync() + 1;
        var watch = CollectAsync(store, p, from, 6, Timeout());

        var r1 = (await store.PutAsync(p + "a", Bytes("1"))).Revision;
        var r2 = (await store.PutAsync(p + "a", Bytes("2"))).Revision;
        await store.PutAsync(NewPrefix() + "elsewhere", Bytes("not watched"));
        var r3 = (await store.TxnAsync(Txn.If().Then(new TxnOp.Put(p + "b", Bytes("b")), new TxnOp.Put(p + "c", Bytes("c"))))).Revision;
        var r4 = (await store.DeleteAsync(p + "a")).Revision;
        var r5 = (await store.DeleteAsync(p + "b")).Revision;

        var events = await watch;
        Assert.Equal(6, events.Count);
        Assert.Equal([r1, r2, r3, r3, r4, r5], events.Select(e => e.Revision).ToArray());

        var (_, created) = events[0];
        Assert.Equal(WatchEventType.Put, created.Type);
        Assert.Null(created.Previous);
        Assert.Equal(r1, created.Kv.CreateRevision);
        Assert.Equal(1, created.Kv.Version);

        var (_, updated) = events[1];
        Assert.Equal("2", updated.Kv.ValueString);
        Assert.Equal("1", updated.Previous!.ValueString);
        Assert.Equal(r1, updated.Kv.CreateRevision);
        Assert.Equal(r2, updated.Kv.ModRevision);
        Assert.Equal(2, updated.Kv.Version);

        Assert.Equal([p + "b", p + "c"], events.Where(e => e.Revision == r3).Select(e => e.Event.Kv.Key).Order(StringComparer.Ordinal).ToArray());

        var (_, deleted) = events[4];
        Assert.Equal(WatchEventType.Delete, deleted.Type);
        Assert.Equal(p + "a", deleted.Kv.Key);
        Assert.Equal(r4, deleted.Kv.ModRevision);
        Assert.Equal(0, deleted.Kv.Value.Length);
        Assert.Equal(0, deleted.Kv.Version);
        Assert.Equal("2", deleted.Previous!.ValueString);
        Assert.Equal(r2, deleted.Previous.ModRevision);
    }

    [Fact]
    public async Task Watch_FromZero_StartsWithTheNextWrite()
    {
        await using var store = await CreateStoreAsync();
        var p = NewPrefix();
        await store.PutAsync(p + "before", Bytes("old"));
        var ct = Timeout();
        await using var watch = store.WatchAsync(p, 0, ct).GetAsyncEnumerator(ct);
        var moved = watch.MoveNextAsync().AsTask();
        // The watch may register only on its first MoveNext: keep writing until it reports one of these writes.
        var written = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < 100 && !moved.IsCompleted; i++)
        {
            var key = p + "after" + i.ToString(CultureInfo.InvariantCulture);
            await store.PutAsync(key, Bytes("new"));
            written.Add(key);
            await Task.WhenAny(moved, Task.Delay(50, ct));
        }
        Assert.True(await moved);
        Assert.All(watch.Current.Events, e => Assert.Contains(e.Kv.Key, written));
    }

    [Fact]
    public async Task Watch_4WritersAnd3Watchers_EveryWatcherSeesEveryEventOnceInOrder()
    {
        const int Writers = 4;
        const int WritesPerWriter = 2500;
        const int Total = Writers * WritesPerWriter;
        await using var store = await CreateStoreAsync();
        var p = NewPrefix();
        var from = await store.GetRevisionAsync() + 1;
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        var watchers = Enumerable.Range(0, 3).Select(_ => Task.Run(() => CollectAsync(store, p, from, Total, cts.Token))).ToArray();

        async Task WriteAsync(int writer)
        {
            for (var i = 0; i < WritesPerWriter; i++)
            {
                // 50 keys per writer, each written 50 times, so most events carry a previous value.
                var key = $"{p}w{writer}/k{i % 50:D2}";
                await store.PutAsync(key, Bytes($"{writer}:{i}"), cancellationToken: cts.Token);
            }
        }
        await Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Run(() => WriteAsync(w))));

        var expected = Enumerable.Range(0, Writers)
            .SelectMany(w => Enumerable.Range(0, WritesPerWriter).Select(i => $"w{w}/k{i % 50:D2}={w}:{i}"))
            .Order(StringComparer.Ordinal)
            .ToList();
        foreach (var watcher in watchers)
        {
            var events = await watcher;
            Assert.Equal(Total, events.Count);
            // In revision order, one revision per single put, no revision twice.
            for (var i = 1; i < events.Count; i++)
            {
                Assert.True(events[i].Revision > events[i - 1].Revision, $"event {i} has revision {events[i].Revision} after {events[i - 1].Revision}");
            }
            Assert.Equal(expected, events.Select(e => $"{e.Event.Kv.Key[p.Length..]}={e.Event.Kv.ValueString}").Order(StringComparer.Ordinal).ToList());
            // Each event's previous value is the value the same watcher saw last for that key.
            var last = new Dictionary<string, (string Value, long Revision)>(StringComparer.Ordinal);
            foreach (var (revision, e) in events)
            {
                Assert.Equal(WatchEventType.Put, e.Type);
                Assert.Equal(revision, e.Kv.ModRevision);
                if (last.TryGetValue(e.Kv.Key, out var before))
                {
                    Assert.NotNull(e.Previous);
                    Assert.Equal(before.Value, e.Previous.ValueString);
                    Assert.Equal(before.Revision, e.Previous.ModRevision);
                }
                else
                {
                    Assert.Null(e.Previous);
                }
                last[e.Kv.Key] = (e.Kv.ValueString, revision);
            }
        }
    }

    [Fact]
    public async Task Watch_CancelledAndResumedFromLastRevisionPlusOne_MissesAndRepeatsNothing()
    {
        await using var store = await CreateStoreAsync();
        var p = NewPrefix();
        var from = await store.GetRevisionAsync() + 1;
        for (var i = 0; i < 10; i++)
        {
            await store.PutAsync(p + "k", Bytes(i.ToString(CultureInfo.InvariantCulture)));
        }

        var seen = new List<string>();
        long last = 0;
        using (var first = new CancellationTokenSource(Patience))
        {
            await foreach (var batch in store.WatchAsync(p, from, first.Token))
            {
                seen.AddRange(batch.Events.Select(e => e.Kv.ValueString));
                last = batch.Revision;
                if (seen.Count == 4)
                {
                    await first.CancelAsync();
                    break;
                }
            }
        }
        for (var i = 10; i < 15; i++)
        {
            await store.PutAsync(p + "k", Bytes(i.ToString(CultureInfo.InvariantCulture)));
        }
        var rest = await CollectAsync(store, p, last + 1, 11, Timeout());
        seen.AddRange(rest.Select(e => e.Event.Kv.ValueString));
        Assert.Equal(Enumerable.Range(0, 15).Select(i => i.ToString(CultureInfo.InvariantCulture)), seen);
    }

    [Fact]
    public async Task Watch_FromCompactedRevision_ThrowsNamingTheOldestAvailableRevision_AndRelistRecovers()
    {
        await using var store = await CreateStoreAsync();
        var p = NewPrefix();
        var early = (await store.PutAsync(p + "a", Bytes("1"))).Revision;
        await store.PutAsync(p + "a", Bytes("2"));
        var compactAt = (await store.PutAsync(p + "b", Bytes("1"))).Revision;
        await store.CompactAsync(compactAt);

        var e = await Assert.ThrowsAsync<StoreCompactedException>(() => CollectAsync(store, p, early, 1, Timeout()));
        Assert.Equal(compactAt, e.CompactedRevision);
        Assert.Equal(compactAt + 1, e.OldestAvailableRevision);
        Assert.Contains((compactAt + 1).ToString(CultureInfo.InvariantCulture), e.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<StoreCompactedException>(() => store.RangeAsync(p, new RangeOptions { Revision = early }));

        // Recovery: re-list at the current revision, then watch from just after it.
        var list = await store.RangeAsync(p);
        Assert.Equal(["2", "1"], list.Kvs.Select(kv => kv.ValueString).ToArray());
        var watch = CollectAsync(store, p, list.Revision + 1, 1, Timeout());
        var put = await store.PutAsync(p + "c", Bytes("after"));
        var (revision, next) = Assert.Single(await watch);
        Assert.Equal(put.Revision, revision);
        Assert.Equal(p + "c", next.Kv.Key);
    }

    [Fact]
    public async Task Compact_AtOrBelowEarlierCompactionOrAboveCurrent_Throws()
    {
        await using var store = await CreateStoreAsync();
        var p = NewPrefix();
        await store.PutAsync(p + "a", Bytes("1"));
        var at = (await store.PutAsync(p + "a", Bytes("2"))).Revision;
        await store.CompactAsync(at);
        await Assert.ThrowsAsync<StoreCompactedException>(() => store.CompactAsync(at));
        await Assert.ThrowsAsync<StoreCompactedException>(() => store.CompactAsync(at - 1));
        var current = await store.GetRevisionAsync();
        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.CompactAsync(current + 1000));
        Assert.Equal("2", (await store.GetAsync(p + "a"))!.ValueString);
        Assert.True((await store.GetStatusAsync()).CompactedRevision >= at);
    }
}
