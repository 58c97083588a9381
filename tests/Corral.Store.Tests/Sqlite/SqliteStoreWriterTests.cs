using Corral.Testing;
using static Corral.Store.Tests.Sqlite.SqliteStoreFixture;

namespace Corral.Store.Tests.Sqlite;

/// <summary>Group commit: concurrent writes share transactions but succeed or fail one by one.</summary>
public sealed class SqliteStoreWriterTests : IDisposable
{
    private readonly TempDirectory _directory = new("corral-sqlite");

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task ConcurrentWrites_SomeRefused_OthersCommitWithConsecutiveRevisions()
    {
        await using var store = Open(Options(_directory));
        var revoked = await store.GrantLeaseAsync(TimeSpan.FromSeconds(30));
        await store.RevokeLeaseAsync(revoked.Id);
        var start = await store.GetRevisionAsync();

        // Every third caller names a revoked lease: it must fail alone, without undoing its batch-mates.
        var calls = Enumerable.Range(0, 300).Select(i => Task.Run(() => store.PutAsync($"/g/{i:D3}", Bytes("v"), i % 3 == 0 ? revoked.Id : 0))).ToArray();
        await Task.WhenAll(calls.Select(c => c.ContinueWith(_ => { }, TaskScheduler.Default)));

        var refused = calls.Where((c, i) => i % 3 == 0).ToList();
        Assert.All(refused, c => Assert.IsType<LeaseNotFoundException>(c.Exception?.InnerException));
        var accepted = calls.Where((c, i) => i % 3 != 0).Select(c => c.Result.Revision).Order().ToList();
        Assert.Equal(Enumerable.Range(1, 200).Select(i => start + i), accepted);
        var keys = await store.RangeAsync("/g/");
        Assert.Equal(200, keys.Count);
        Assert.DoesNotContain(keys.Kvs, kv => int.Parse(kv.Key[3..], System.Globalization.CultureInfo.InvariantCulture) % 3 == 0);
        Assert.Equal(start + 200, await store.GetRevisionAsync());
    }
}
