using System.Globalization;
using Corral.Store.Sqlite;
using Corral.Testing;
using static Corral.Store.Tests.Sqlite.SqliteStoreFixture;

namespace Corral.Store.Tests.Sqlite;

/// <summary>Closing and reopening the store: what survives, and what a lease does across the restart.</summary>
public sealed class SqliteStoreRestartTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly TempDirectory _directory = new("corral-sqlite");

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Reopen_KeysRevisionCompactionAndLeasesSurvive()
    {
        var options = Options(_directory);
        long revision, leaseId;
        await using (var store = Open(options, new ManualTimeProvider(T0)))
        {
            for (var i = 0; i < 20; i++)
            {
                await store.PutAsync($"/k/{i:D2}", Bytes(i.ToString(CultureInfo.InvariantCulture)));
            }
            leaseId = (await store.GrantLeaseAsync(TimeSpan.FromSeconds(60))).Id;
            await store.PutAsync("/leased", Bytes("l"), leaseId);
            await store.CompactAsync(5);
            revision = await store.GetRevisionAsync();
        }

        var later = new ManualTimeProvider(T0 + TimeSpan.FromSeconds(5));
        await using (var store = Open(options, later))
        {
            Assert.Equal(revision, await store.GetRevisionAsync());
            var status = await store.GetStatusAsync();
            Assert.Equal(5, status.CompactedRevision);
            Assert.Equal("sqlite", status.Kind);
            Assert.Equal(options.DatabasePath, Assert.Single(status.Members).Endpoint);
            var keys = await store.RangeAsync("/k/");
            Assert.Equal(20, keys.Count);
            Assert.Equal("19", keys.Kvs[^1].ValueString);
            var lease = await store.GetLeaseAsync(leaseId);
            Assert.NotNull(lease);
            Assert.Equal(TimeSpan.FromSeconds(55), lease.Remaining);
            Assert.Equal(["/leased"], lease.Keys);
            Assert.Equal(revision + 1, (await store.PutAsync("/next", Bytes("n"))).Revision);
            await Assert.ThrowsAsync<StoreCompactedException>(() => store.RangeAsync("/k/", new RangeOptions { Revision = 5 }));
            Assert.Equal(5, (await store.RangeAsync("/k/", new RangeOptions { Revision = 6 })).Count);
        }
    }

    [Fact]
    public async Task Reopen_AfterTheLeaseDeadline_ExpiresItAtOnceWithDeleteEvents()
    {
        var options = Options(_directory);
        long before;
        await using (var store = Open(options, new ManualTimeProvider(T0)))
        {
            var lease = await store.GrantLeaseAsync(TimeSpan.FromSeconds(10));
            await store.PutAsync("/owned/a", Bytes("a"), lease.Id);
            await store.PutAsync("/kept", Bytes("k"));
            before = await store.GetRevisionAsync();
        }

        await using (var store = Open(options, new ManualTimeProvider(T0 + TimeSpan.FromMinutes(1))))
        {
            // Gone as soon as Open returns, without any time passing or any write.
            Assert.Null(await store.GetAsync("/owned/a"));
            Assert.NotNull(await store.GetAsync("/kept"));
            Assert.Equal(before + 1, await store.GetRevisionAsync());
            using var cts = new CancellationTokenSource(Patience);
            await foreach (var batch in store.WatchAsync("/owned/", before + 1, cts.Token))
            {
                var e = Assert.Single(batch.Events);
                Assert.Equal(WatchEventType.Delete, e.Type);
                Assert.Equal("a", e.Previous!.ValueString);
                break;
            }
        }
    }

    [Fact]
    public async Task Reopen_LeaseNotKeptAliveAfterwards_ExpiresWithinItsTtl()
    {
        var options = Options(_directory);
        long leaseId;
        await using (var store = Open(options, new ManualTimeProvider(T0)))
        {
            leaseId = (await store.GrantLeaseAsync(TimeSpan.FromSeconds(10))).Id;
            await store.PutAsync("/owned", Bytes("o"), leaseId);
        }

        var time = new ManualTimeProvider(T0 + TimeSpan.FromSeconds(4));
        await using (var store = Open(options, time))
        {
            Assert.Equal(TimeSpan.FromSeconds(6), (await store.GetLeaseAsync(leaseId))!.Remaining);
            time.Advance(TimeSpan.FromSeconds(6));
            await WaitForAsync(async () => await store.GetAsync("/owned") is null, "the lease to expire 6 s after the reopen");
        }
    }

    [Fact]
    public async Task Reopen_WithTheClockMovedBack_LeaseStillLivesAtMostItsTtlFromTheReopen()
    {
        var options = Options(_directory);
        long leaseId;
        await using (var store = Open(options, new ManualTimeProvider(T0)))
        {
            leaseId = (await store.GrantLeaseAsync(TimeSpan.FromSeconds(10))).Id;
            await store.PutAsync("/owned", Bytes("o"), leaseId);
        }

        // The stored deadline is now an hour and 10 s away; the lease must not live that long.
        var time = new ManualTimeProvider(T0 - TimeSpan.FromHours(1));
        await using (var store = Open(options, time))
        {
            Assert.Equal(TimeSpan.FromSeconds(10), (await store.GetLeaseAsync(leaseId))!.Remaining);
            time.Advance(TimeSpan.FromSeconds(10));
            await WaitForAsync(async () => await store.GetAsync("/owned") is null, "the lease to expire 10 s after the reopen");
        }
    }

    [Fact]
    public async Task Reopen_AfterConcurrentWrites_EveryAcknowledgedWriteIsThere()
    {
        foreach (var mode in new[] { SqliteSynchronousMode.Full, SqliteSynchronousMode.Normal })
        {
            var options = Options(_directory) with { FileName = $"{mode}.db", Synchronous = mode };
            await using (var store = Open(options))
            {
                await Task.WhenAll(Enumerable.Range(0, 16).Select(w => Task.Run(async () =>
                {
                    for (var i = 0; i < 50; i++)
                    {
                        await store.PutAsync($"/d/{w:D2}/{i:D2}", Bytes($"{w}.{i}"));
                    }
                })));
            }
            await using (var store = Open(options))
            {
                var all = await store.RangeAsync("/d/");
                Assert.Equal(800, all.Count);
                Assert.Equal(801, await store.GetRevisionAsync());
                Assert.Equal("15.49", all.Kvs[^1].ValueString);
            }
        }
    }

    [Fact]
    public async Task Revision_StartsAt1_AdvancesByOnePerChangingCall_AndNotForNoOps()
    {
        await using var store = Open(Options(_directory));
        Assert.Equal(1, await store.GetRevisionAsync());
        Assert.Equal(2, (await store.PutAsync("/a", Bytes("1"))).Revision);
        Assert.Equal(3, (await store.TxnAsync(Txn.If().Then(new TxnOp.Put("/b", Bytes("1")), new TxnOp.Put("/c", Bytes("1"))))).Revision);
        Assert.Equal(3, (await store.DeleteAsync("/missing")).Revision);
        Assert.Equal(3, (await store.TxnAsync(Txn.If(Compare.Missing("/a")).Else(new TxnOp.Get("/a")))).Revision);
        var lease = await store.GrantLeaseAsync(TimeSpan.FromSeconds(30));
        await store.KeepAliveOnceAsync(lease.Id);
        await store.RevokeLeaseAsync(lease.Id);
        Assert.Equal(3, await store.GetRevisionAsync());
        Assert.Equal(4, (await store.DeletePrefixAsync("/")).Revision);
        Assert.Equal(4, await store.GetRevisionAsync());
    }
}
