namespace Corral.Store.Tests.Conformance;

public abstract partial class ClusterStoreConformanceTests
{
    [Fact]
    public async Task BadInput_KeysValuesAndTtls_ThrowArgumentExceptionNamingTheLimit()
    {
        await using var store = await CreateStoreAsync();
        var p = NewPrefix();
        var longKey = p + new string('k', StoreLimits.MaxKeyBytes - p.Length + 1);
        var bigValue = new byte[StoreLimits.MaxValueBytes + 1];

        Assert.Contains("empty", (await Assert.ThrowsAnyAsync<ArgumentException>(() => store.PutAsync("", Bytes("v")))).Message, StringComparison.Ordinal);
        Assert.Contains("1536", (await Assert.ThrowsAnyAsync<ArgumentException>(() => store.PutAsync(longKey, Bytes("v")))).Message, StringComparison.Ordinal);
        Assert.Contains("1536", (await Assert.ThrowsAnyAsync<ArgumentException>(() => store.GetAsync(longKey))).Message, StringComparison.Ordinal);
        Assert.Contains("1048576", (await Assert.ThrowsAnyAsync<ArgumentException>(() => store.PutAsync(p + "big", bigValue))).Message, StringComparison.Ordinal);
        Assert.Contains("1048576", (await Assert.ThrowsAnyAsync<ArgumentException>(() => store.TxnAsync(Txn.If().Then(new TxnOp.Put(p + "big", bigValue))))).Message, StringComparison.Ordinal);
        Assert.Contains("TTL", (await Assert.ThrowsAnyAsync<ArgumentException>(() => store.GrantLeaseAsync(TimeSpan.Zero))).Message, StringComparison.Ordinal);
        Assert.Contains("TTL", (await Assert.ThrowsAnyAsync<ArgumentException>(() => store.GrantLeaseAsync(TimeSpan.FromSeconds(-5)))).Message, StringComparison.Ordinal);
        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.DeleteAsync(""));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.TxnAsync(Txn.If().Then(new TxnOp.Put(p + "twice", Bytes("1")), new TxnOp.Put(p + "twice", Bytes("2")))));
        var unknownLease = await store.GrantLeaseAsync(TimeSpan.FromSeconds(10));
        await store.RevokeLeaseAsync(unknownLease.Id);
        await Assert.ThrowsAsync<LeaseNotFoundException>(() => store.PutAsync(p + "k", Bytes("v"), unknownLease.Id));

        // Nothing was written by any refused call; the largest allowed key and value are accepted.
        Assert.Equal(0, (await store.RangeAsync(p)).Count);
        var maxKey = p + new string('k', StoreLimits.MaxKeyBytes - p.Length);
        await store.PutAsync(maxKey, new byte[StoreLimits.MaxValueBytes]);
        Assert.Equal(StoreLimits.MaxValueBytes, (await store.GetAsync(maxKey))!.Value.Length);
    }
}
