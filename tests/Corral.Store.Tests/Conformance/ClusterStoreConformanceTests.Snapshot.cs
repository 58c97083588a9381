namespace Corral.Store.Tests.Conformance;

public abstract partial class ClusterStoreConformanceTests
{
    [Fact]
    public async Task Snapshot_SaveThenRestoreIntoAnEmptyStore_GivesIdenticalKeysAndValues()
    {
        var p = NewPrefix();
        using var snapshot = new MemoryStream();
        long savedAt;
        await using (var source = await CreateStoreAsync())
        {
            for (var i = 0; i < 250; i++)
            {
                await source.PutAsync($"{p}k{i:D3}", Bytes($"value {i}"));
            }
            await source.PutAsync(p + "binary", new byte[] { 0, 1, 2, 255 });
            await source.PutAsync(p + "empty", ReadOnlyMemory<byte>.Empty);
            await source.DeleteAsync(p + "k000");
            savedAt = await source.SaveSnapshotAsync(snapshot);
            Assert.True(savedAt > 0);
        }

        snapshot.Position = 0;
        var entries = await StoreSnapshot.ReadAsync(snapshot);
        var ours = entries.Where(e => e.Key.StartsWith(p, StringComparison.Ordinal)).ToList();
        Assert.Equal(251, ours.Count);
        Assert.DoesNotContain(ours, e => e.Key == p + "k000");

        await using var target = await CreateEmptyStoreAsync();
        Assert.Equal(0, (await target.RangeAsync("", new RangeOptions { Limit = 1 })).Count);
        snapshot.Position = 0;
        await target.RestoreSnapshotAsync(snapshot);

        var restored = new List<KeyValue>();
        string? after = null;
        for (var page = 0; page < 1000; page++)
        {
            var result = await target.RangeAsync("", new RangeOptions { Limit = 500, After = after });
            restored.AddRange(result.Kvs);
            if (!result.More)
            {
                break;
            }
            after = result.Kvs[^1].Key;
        }
        Assert.Equal(entries.Select(e => e.Key).ToList(), restored.Select(kv => kv.Key).ToList());
        for (var i = 0; i < entries.Count; i++)
        {
            Assert.Equal(entries[i].Value, restored[i].Value.ToArray());
        }
        Assert.Equal(new byte[] { 0, 1, 2, 255 }, (await target.GetAsync(p + "binary"))!.Value.ToArray());
    }

    [Fact]
    public async Task Snapshot_RestoreIntoANonEmptyStore_IsRefusedAndWritesNothing()
    {
        await using var store = await CreateStoreAsync();
        var p = NewPrefix();
        await store.PutAsync(p + "existing", Bytes("x"));
        using var snapshot = new MemoryStream();
        await store.SaveSnapshotAsync(snapshot);
        await store.PutAsync(p + "later", Bytes("y"));
        await store.DeleteAsync(p + "existing");

        snapshot.Position = 0;
        var e = await Assert.ThrowsAnyAsync<StoreException>(() => store.RestoreSnapshotAsync(snapshot));
        Assert.Contains("empty", e.Message, StringComparison.Ordinal);
        Assert.Null(await store.GetAsync(p + "existing"));
    }
}
