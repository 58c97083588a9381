using Corral.Testing;
using static Corral.Store.Tests.Sqlite.SqliteStoreFixture;

namespace Corral.Store.Tests.Sqlite;

/// <summary>Lease timing on a fake clock: expiry happens exactly when the TTL has run out, not before.</summary>
public sealed class SqliteStoreLeaseTests : IDisposable
{
    private readonly TempDirectory _directory = new("corral-sqlite");
    private readonly ManualTimeProvider _time = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Lease_NotKeptAlive_ExpiresAtItsTtlWithDeleteEvents()
    {
        await using var store = Open(Options(_directory), _time);
        var grant = await store.GrantLeaseAsync(TimeSpan.FromSeconds(10));
        await store.PutAsync("/l/a", Bytes("a"), grant.Id);
        await store.PutAsync("/l/b", Bytes("b"), grant.Id);
        var from = await store.GetRevisionAsync() + 1;

        _time.Advance(TimeSpan.FromSeconds(9.9));
        await store.PutAsync("/other", Bytes("forces a write batch, which expires whatever is due"));
        Assert.NotNull(await store.GetAsync("/l/a"));
        Assert.Equal(TimeSpan.FromSeconds(1), (await store.GetLeaseAsync(grant.Id))!.Remaining);

        _time.Advance(TimeSpan.FromSeconds(0.1));
        await WaitForAsync(async () => await store.GetAsync("/l/a") is null, "the lease's keys to be deleted");
        Assert.Null(await store.GetAsync("/l/b"));
        Assert.Null(await store.GetLeaseAsync(grant.Id));

        using var cts = new CancellationTokenSource(Patience);
        await foreach (var batch in store.WatchAsync("/l/", from, cts.Token))
        {
            Assert.Equal([("/l/a", "a"), ("/l/b", "b")], batch.Events.Select(e => (e.Kv.Key, e.Previous!.ValueString)).ToArray());
            Assert.All(batch.Events, e => Assert.Equal(WatchEventType.Delete, e.Type));
            break;
        }
    }

    [Fact]
    public async Task Lease_KeptAlive_LivesAFullTtlFromEachRenewal()
    {
        await using var store = Open(Options(_directory), _time);
        var grant = await store.GrantLeaseAsync(TimeSpan.FromSeconds(10));
        await store.PutAsync("/k", Bytes("v"), grant.Id);
        for (var i = 0; i < 5; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(8));
            var ack = await store.KeepAliveOnceAsync(grant.Id);
            Assert.Equal(TimeSpan.FromSeconds(10), ack.Remaining);
        }
        _time.Advance(TimeSpan.FromSeconds(9));
        await store.PutAsync("/other", Bytes("x"));
        Assert.NotNull(await store.GetAsync("/k"));

        _time.Advance(TimeSpan.FromSeconds(1));
        await WaitForAsync(async () => await store.GetAsync("/k") is null, "the lease to expire");
        await Assert.ThrowsAsync<LeaseNotFoundException>(() => store.KeepAliveOnceAsync(grant.Id));
    }

    [Fact]
    public async Task Lease_Remaining_CountsDownInWholeSecondsRoundedUp()
    {
        await using var store = Open(Options(_directory), _time);
        var grant = await store.GrantLeaseAsync(TimeSpan.FromSeconds(2.5));
        Assert.Equal(TimeSpan.FromSeconds(3), grant.Ttl);
        _time.Advance(TimeSpan.FromSeconds(1.5));
        var info = await store.GetLeaseAsync(grant.Id);
        Assert.Equal(TimeSpan.FromSeconds(2), info!.Remaining);
        Assert.Equal(TimeSpan.FromSeconds(3), info.Granted);
    }

    [Fact]
    public async Task Lease_PastItsDeadlineButNotYetSwept_CannotTakeNewKeys()
    {
        await using var store = Open(Options(_directory), _time);
        var grant = await store.GrantLeaseAsync(TimeSpan.FromSeconds(5));
        _time.Advance(TimeSpan.FromSeconds(5));
        await Assert.ThrowsAsync<LeaseNotFoundException>(() => store.PutAsync("/k", Bytes("v"), grant.Id));
        Assert.Null(await store.GetAsync("/k"));
    }
}
