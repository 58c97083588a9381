namespace Corral.Store.Tests.Conformance;

public abstract partial class ClusterStoreConformanceTests
{
    /// <summary>etcd's minimum TTL with default timing; the lease tests' one real wait.</summary>
    protected static readonly TimeSpan ShortTtl = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task Lease_ExpiryDeletesKeysWithDeleteEvents_KeepAliveKeepsThem_RevokeDeletesAtOnce()
    {
        await using var store = await CreateStoreAsync();
        var p = NewPrefix();
        var expiring = await store.GrantLeaseAsync(ShortTtl);
        var kept = await store.GrantLeaseAsync(ShortTtl);
        Assert.True(expiring.Ttl >= ShortTtl);
        await store.PutAsync(p + "expiring/1", Bytes("e1"), expiring.Id);
        await store.PutAsync(p + "expiring/2", Bytes("e2"), expiring.Id);
        await store.PutAsync(p + "kept/1", Bytes("k1"), kept.Id);
        Assert.Equal(kept.Id, (await store.GetAsync(p + "kept/1"))!.Lease);
        var from = await store.GetRevisionAsync() + 1;

        using var keepAlive = new CancellationTokenSource(Patience);
        var renewals = 0;
        var keeping = Task.Run(async () =>
        {
            await foreach (var ack in store.KeepAliveAsync(kept.Id, TimeSpan.FromMilliseconds(400), keepAlive.Token))
            {
                Assert.Equal(kept.Id, ack.Id);
                Interlocked.Increment(ref renewals);
            }
        });

        // Expiry: both keys go in one revision, with delete events that carry the old values.
        var expired = await CollectAsync(store, p, from, 2, Timeout());
        Assert.All(expired, e => Assert.Equal(WatchEventType.Delete, e.Event.Type));
        Assert.Single(expired.Select(e => e.Revision).Distinct());
        Assert.Equal(["e1", "e2"], expired.Select(e => e.Event.Previous!.ValueString).Order(StringComparer.Ordinal).ToArray());
        Assert.Null(await store.GetAsync(p + "expiring/1"));
        Assert.Null(await store.GetLeaseAsync(expiring.Id));
        await Assert.ThrowsAsync<LeaseNotFoundException>(() => store.KeepAliveOnceAsync(expiring.Id));

        // The kept lease outlived the expired one by renewals alone.
        Assert.True(Volatile.Read(ref renewals) >= 2, $"only {renewals} renewals were acknowledged");
        Assert.Equal("k1", (await store.GetAsync(p + "kept/1"))!.ValueString);
        var info = await store.GetLeaseAsync(kept.Id);
        Assert.NotNull(info);
        Assert.Equal([p + "kept/1"], info.Keys);
        Assert.True(info.Remaining > TimeSpan.Zero && info.Remaining <= info.Granted, $"remaining {info.Remaining}, granted {info.Granted}");

        // Revoke: the key is gone as soon as the call returns, with a delete event.
        var afterExpiry = await store.GetRevisionAsync() + 1;
        await store.RevokeLeaseAsync(kept.Id);
        Assert.Null(await store.GetAsync(p + "kept/1"));
        var revoked = Assert.Single(await CollectAsync(store, p, afterExpiry, 1, Timeout()));
        Assert.Equal(WatchEventType.Delete, revoked.Event.Type);
        Assert.Equal("k1", revoked.Event.Previous!.ValueString);
        await keepAlive.CancelAsync();
        var ended = await Record.ExceptionAsync(() => keeping);
        Assert.True(ended is OperationCanceledException or LeaseNotFoundException, $"the keep-alive ended with {ended}");
    }

    [Fact]
    public async Task Lease_UnknownOrRevoked_IsRefusedEverywhere()
    {
        await using var store = await CreateStoreAsync();
        var p = NewPrefix();
        var grant = await store.GrantLeaseAsync(TimeSpan.FromSeconds(60));
        await store.RevokeLeaseAsync(grant.Id);

        var e = await Assert.ThrowsAsync<LeaseNotFoundException>(() => store.PutAsync(p + "k", Bytes("v"), grant.Id));
        Assert.Equal(grant.Id, e.LeaseId);
        Assert.Contains(grant.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message, StringComparison.Ordinal);
        Assert.Null(await store.GetAsync(p + "k"));
        await Assert.ThrowsAsync<LeaseNotFoundException>(() => store.KeepAliveOnceAsync(grant.Id));
        await Assert.ThrowsAsync<LeaseNotFoundException>(() => store.RevokeLeaseAsync(grant.Id));
        Assert.Null(await store.GetLeaseAsync(grant.Id));
        await Assert.ThrowsAsync<LeaseNotFoundException>(async () =>
        {
            await foreach (var ack in store.KeepAliveAsync(grant.Id, TimeSpan.FromMilliseconds(100), Timeout()))
            {
            }
        });
    }

    [Fact]
    public async Task Lease_GrantAndKeepAlive_ReportTtlAndKeys()
    {
        await using var store = await CreateStoreAsync();
        var p = NewPrefix();
        var grant = await store.GrantLeaseAsync(TimeSpan.FromSeconds(30));
        Assert.NotEqual(0, grant.Id);
        Assert.Equal(TimeSpan.FromSeconds(30), grant.Ttl);
        await store.PutAsync(p + "b", Bytes("1"), grant.Id);
        await store.PutAsync(p + "a", Bytes("1"), grant.Id);
        await store.PutAsync(p + "detached", Bytes("1"), grant.Id);
        await store.PutAsync(p + "detached", Bytes("2")); // a put without the lease detaches the key

        var info = await store.GetLeaseAsync(grant.Id);
        Assert.NotNull(info);
        Assert.Equal(TimeSpan.FromSeconds(30), info.Granted);
        Assert.Equal([p + "a", p + "b"], info.Keys.Order(StringComparer.Ordinal).ToArray());
        var ack = await store.KeepAliveOnceAsync(grant.Id);
        Assert.Equal(grant.Id, ack.Id);
        Assert.True(ack.Remaining >= TimeSpan.FromSeconds(29));

        await store.RevokeLeaseAsync(grant.Id);
        Assert.Equal([p + "detached"], (await store.RangeAsync(p)).Kvs.Select(kv => kv.Key).ToArray());
        Assert.Equal("2", (await store.GetAsync(p + "detached"))!.ValueString);
    }
}
