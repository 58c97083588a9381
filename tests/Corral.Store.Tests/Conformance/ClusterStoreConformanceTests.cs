using System.Text;

namespace Corral.Store.Tests.Conformance;

/// <summary>
/// The one conformance suite every <see cref="IClusterStore"/> backend must pass. Subclasses only say how to get a store.
/// </summary>
/// <remarks>
/// Each test works under its own unique key prefix (and its own election names), so a backend may hand every test a
/// client of one shared store (etcd subclasses share one cluster per class); tests never assume the store is empty,
/// except through <see cref="CreateEmptyStoreAsync"/>. Leases use real time and short TTLs (2 s, etcd's minimum with
/// default timing), kept to a few waits.
/// </remarks>
public abstract partial class ClusterStoreConformanceTests
{
    /// <summary>Generous bound for anything that should happen "soon" on a loaded 2-core machine.</summary>
    protected static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>A store client for one test; the test disposes it. It may hold keys written by other tests.</summary>
    protected abstract Task<IClusterStore> CreateStoreAsync();

    /// <summary>
    /// A store that holds no key at all, for snapshot restore. The default creates a new store with
    /// <see cref="CreateStoreAsync"/>; a backend whose stores are shared between tests overrides this to give a fresh
    /// or emptied one.
    /// </summary>
    protected virtual Task<IClusterStore> CreateEmptyStoreAsync() => CreateStoreAsync();

    /// <summary>A key prefix no other test uses.</summary>
    protected static string NewPrefix() => $"/conformance/{Guid.NewGuid():N}/";

    protected static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);

    protected static CancellationToken Timeout(TimeSpan? after = null) => new CancellationTokenSource(after ?? Patience).Token;

    [Fact]
    public async Task Put_NewThenUpdate_CarriesCreateModRevisionAndVersion()
    {
        await using var store = await CreateStoreAsync();
        var key = NewPrefix() + "a";

        var first = await store.PutAsync(key, Bytes("one"));
        Assert.Null(first.Previous);
        var kv = await store.GetAsync(key);
        Assert.NotNull(kv);
        Assert.Equal("one", kv.ValueString);
        Assert.Equal(first.Revision, kv.CreateRevision);
        Assert.Equal(first.Revision, kv.ModRevision);
        Assert.Equal(1, kv.Version);
        Assert.Equal(0, kv.Lease);

        var second = await store.PutAsync(key, Bytes("two"));
        Assert.True(second.Revision > first.Revision);
        Assert.NotNull(second.Previous);
        Assert.Equal("one", second.Previous.ValueString);
        Assert.Equal(first.Revision, second.Previous.ModRevision);
        kv = await store.GetAsync(key);
        Assert.NotNull(kv);
        Assert.Equal("two", kv.ValueString);
        Assert.Equal(first.Revision, kv.CreateRevision);
        Assert.Equal(second.Revision, kv.ModRevision);
        Assert.Equal(2, kv.Version);
        Assert.True(await store.GetRevisionAsync() >= second.Revision);
    }

    [Fact]
    public async Task Put_EmptyValueAndBinaryValue_RoundTripExactly()
    {
        await using var store = await CreateStoreAsync();
        var prefix = NewPrefix();
        var binary = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        await store.PutAsync(prefix + "empty", ReadOnlyMemory<byte>.Empty);
        await store.PutAsync(prefix + "binary", binary);
        var big = new byte[StoreLimits.MaxValueBytes];
        Random.Shared.NextBytes(big);
        await store.PutAsync(prefix + "big", big);

        Assert.Equal(0, (await store.GetAsync(prefix + "empty"))!.Value.Length);
        Assert.Equal(binary, (await store.GetAsync(prefix + "binary"))!.Value.ToArray());
        Assert.Equal(big, (await store.GetAsync(prefix + "big"))!.Value.ToArray());
    }

    [Fact]
    public async Task Get_MissingKey_ReturnsNull()
    {
        await using var store = await CreateStoreAsync();
        Assert.Null(await store.GetAsync(NewPrefix() + "missing"));
    }

    [Fact]
    public async Task Range_Prefix_ReturnsOnlyMatchingKeysInByteOrder()
    {
        await using var store = await CreateStoreAsync();
        var prefix = NewPrefix();
        // Byte order of UTF-8: 'B' < 'a' < 'b' < 'é' (0xC3 0xA9) < '€' (0xE2 ...).
        string[] names = ["b", "a", "é", "€", "B", "a/b", "a0"];
        foreach (var name in names)
        {
            await store.PutAsync(prefix + "in/" + name, Bytes(name));
        }
        await store.PutAsync(prefix + "out/a", Bytes("x"));
        await store.PutAsync(prefix + "in", Bytes("the prefix itself without the slash"));

        var range = await store.RangeAsync(prefix + "in/");
        var expected = names.Select(n => prefix + "in/" + n).OrderBy(k => Encoding.UTF8.GetBytes(k), ByteOrder.Instance).ToList();
        Assert.Equal(expected, range.Kvs.Select(kv => kv.Key).ToList());
        Assert.Equal(names.Length, range.Count);
        Assert.False(range.More);
        Assert.All(range.Kvs, kv => Assert.Equal(kv.Key[(prefix.Length + 3)..], kv.ValueString));
        Assert.Equal(names.Length + 2, (await store.RangeAsync(prefix)).Count);
    }

    [Fact]
    public async Task Range_LimitAndAfter_PagesThroughEveryKeyOnce()
    {
        await using var store = await CreateStoreAsync();
        var prefix = NewPrefix();
        var keys = Enumerable.Range(0, 25).Select(i => $"{prefix}k{i:D2}").ToList();
        foreach (var key in keys)
        {
            await store.PutAsync(key, Bytes(key));
        }
        var revision = await store.GetRevisionAsync();

        var first = await store.RangeAsync(prefix, new RangeOptions { Limit = 10 });
        Assert.Equal(10, first.Kvs.Count);
        Assert.True(first.More);
        Assert.Equal(25, first.Count);

        var seen = new List<string>();
        string? after = null;
        for (var page = 0; page < 10; page++)
        {
            var result = await store.RangeAsync(prefix, new RangeOptions { Limit = 10, After = after, Revision = revision });
            seen.AddRange(result.Kvs.Select(kv => kv.Key));
            if (!result.More)
            {
                break;
            }
            after = result.Kvs[^1].Key;
        }
        Assert.Equal(keys, seen);

        var keysOnly = await store.RangeAsync(prefix, new RangeOptions { KeysOnly = true });
        Assert.Equal(keys, keysOnly.Kvs.Select(kv => kv.Key).ToList());
        Assert.All(keysOnly.Kvs, kv => Assert.Equal(0, kv.Value.Length));
    }

    [Fact]
    public async Task Range_DescendingWithBeforeAndAfter_PagesBackwardsThroughTheBoundedRange()
    {
        await using var store = await CreateStoreAsync();
        var prefix = NewPrefix();
        var keys = Enumerable.Range(0, 25).Select(i => $"{prefix}k{i:D2}").ToList();
        foreach (var key in keys)
        {
            await store.PutAsync(key, Bytes(key));
        }
        // A key just past the prefix must never be returned, also when paging backwards from the prefix's end.
        await store.PutAsync(prefix[..^1] + "0", Bytes("outside"));
        var revision = await store.GetRevisionAsync();

        var last = await store.RangeAsync(prefix, new RangeOptions { Limit = 3, Descending = true });
        Assert.Equal([keys[24], keys[23], keys[22]], last.Kvs.Select(kv => kv.Key));
        Assert.True(last.More);
        Assert.Equal(25, last.Count);
        Assert.Equal(keys[24], last.Kvs[0].ValueString);

        var seen = new List<string>();
        string? before = null;
        for (var page = 0; page < 10; page++)
        {
            var result = await store.RangeAsync(prefix, new RangeOptions { Limit = 4, Before = before, After = keys[4], Revision = revision, Descending = true });
            seen.AddRange(result.Kvs.Select(kv => kv.Key));
            if (!result.More)
            {
                break;
            }
            before = result.Kvs[^1].Key;
        }
        Assert.Equal(keys[5..].AsEnumerable().Reverse(), seen);

        var window = await store.RangeAsync(prefix, new RangeOptions { After = keys[9], Before = keys[13], KeysOnly = true });
        Assert.Equal(keys[10..13], window.Kvs.Select(kv => kv.Key));
        Assert.Equal(3, window.Count);

        var inverted = await store.RangeAsync(prefix, new RangeOptions { After = keys[13], Before = keys[9] });
        Assert.Empty(inverted.Kvs);
        var belowPrefix = await store.RangeAsync(prefix, new RangeOptions { Before = prefix, Descending = true });
        Assert.Empty(belowPrefix.Kvs);
    }

    [Fact]
    public async Task Range_AtPastRevision_ReturnsTheKeysAsTheyWereThen()
    {
        await using var store = await CreateStoreAsync();
        var p = NewPrefix();
        var r1 = (await store.PutAsync(p + "a", Bytes("a1"))).Revision;
        var r2 = (await store.PutAsync(p + "b", Bytes("b1"))).Revision;
        var r3 = (await store.PutAsync(p + "a", Bytes("a2"))).Revision;
        var r4 = (await store.DeleteAsync(p + "b")).Revision;
        var r5 = (await store.PutAsync(p + "c", Bytes("c1"))).Revision;
        await store.PutAsync(p + "b", Bytes("b2"));

        static string Show(RangeResult r) => string.Join(",", r.Kvs.Select(kv => $"{kv.Key[^1]}={kv.ValueString}@{kv.ModRevision}/v{kv.Version}"));
        Assert.Equal($"a=a1@{r1}/v1", Show(await store.RangeAsync(p, new RangeOptions { Revision = r1 })));
        Assert.Equal($"a=a1@{r1}/v1,b=b1@{r2}/v1", Show(await store.RangeAsync(p, new RangeOptions { Revision = r2 })));
        Assert.Equal($"a=a2@{r3}/v2,b=b1@{r2}/v1", Show(await store.RangeAsync(p, new RangeOptions { Revision = r3 })));
        Assert.Equal($"a=a2@{r3}/v2", Show(await store.RangeAsync(p, new RangeOptions { Revision = r4 })));
        Assert.Equal($"a=a2@{r3}/v2,c=c1@{r5}/v1", Show(await store.RangeAsync(p, new RangeOptions { Revision = r5 })));
        var now = await store.RangeAsync(p);
        Assert.Equal(3, now.Count);
        Assert.Equal("b2", now.Kvs[1].ValueString);
        Assert.Equal(1, now.Kvs[1].Version);

        var limited = await store.RangeAsync(p, new RangeOptions { Revision = r3, Limit = 1 });
        Assert.Equal("a2", Assert.Single(limited.Kvs).ValueString);
        Assert.True(limited.More);
        Assert.Equal(2, limited.Count);
    }

    [Fact]
    public async Task Range_AtFutureRevision_Throws()
    {
        await using var store = await CreateStoreAsync();
        var current = await store.GetRevisionAsync();
        await Assert.ThrowsAnyAsync<StoreException>(() => store.RangeAsync(NewPrefix(), new RangeOptions { Revision = current + 1000 }));
    }

    [Fact]
    public async Task Delete_OneKey_ReturnsPreviousAndLeavesOthers()
    {
        await using var store = await CreateStoreAsync();
        var p = NewPrefix();
        await store.PutAsync(p + "a", Bytes("1"));
        await store.PutAsync(p + "ab", Bytes("2"));

        var deleted = await store.DeleteAsync(p + "a");
        Assert.Equal(1, deleted.Deleted);
        Assert.Equal("1", Assert.Single(deleted.Previous).ValueString);
        Assert.Null(await store.GetAsync(p + "a"));
        Assert.NotNull(await store.GetAsync(p + "ab"));

        var missing = await store.DeleteAsync(p + "a");
        Assert.Equal(0, missing.Deleted);
        Assert.Empty(missing.Previous);
        Assert.True(missing.Revision >= deleted.Revision);
    }

    [Fact]
    public async Task DeletePrefix_DeletesEveryKeyUnderItAtOneRevision()
    {
        await using var store = await CreateStoreAsync();
        var p = NewPrefix();
        for (var i = 0; i < 5; i++)
        {
            await store.PutAsync($"{p}dir/{i}", Bytes(i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }
        await store.PutAsync(p + "dir", Bytes("sibling, not under dir/"));
        await store.PutAsync(p + "other/x", Bytes("x"));

        var watch = CollectAsync(store, p, await store.GetRevisionAsync() + 1, 5, Timeout());
        var deleted = await store.DeletePrefixAsync(p + "dir/");
        Assert.Equal(5, deleted.Deleted);
        Assert.Equal(5, deleted.Previous.Count);
        Assert.Empty((await store.RangeAsync(p + "dir/")).Kvs);
        Assert.Equal(2, (await store.RangeAsync(p)).Count);

        var events = await watch;
        Assert.All(events, e =>
        {
            Assert.Equal(WatchEventType.Delete, e.Event.Type);
            Assert.Equal(deleted.Revision, e.Revision);
            Assert.Equal(deleted.Revision, e.Event.Kv.ModRevision);
            Assert.NotNull(e.Event.Previous);
        });
    }

    [Fact]
    public async Task Status_ReportsKindRevisionAndAHealthyMajority()
    {
        await using var store = await CreateStoreAsync();
        var put = await store.PutAsync(NewPrefix() + "s", Bytes("s"));
        var status = await store.GetStatusAsync();
        Assert.Equal(store.Kind, status.Kind);
        Assert.True(status.Revision >= put.Revision);
        Assert.NotEmpty(status.Members);
        Assert.True(status.HasQuorum);
        Assert.True(status.DbSizeBytes > 0);
    }

    /// <summary>Orders byte arrays as unsigned bytes, shorter first on a common prefix (etcd's key order).</summary>
    protected sealed class ByteOrder : IComparer<byte[]>
    {
        public static ByteOrder Instance { get; } = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
