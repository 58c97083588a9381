using System.Text;
using Corral.Store.Etcd;
using Corral.Store.Sqlite;
using Corral.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Corral.Store.Tests.Etcd;

/// <summary>A snapshot saved by one backend restores into the other with identical keys and values.</summary>
public sealed class EtcdSqliteSnapshotTests : IAsyncLifetime, IDisposable
{
    private readonly TempDirectory _directory = new("corral-snapshot");
    private EtcdCluster _etcd = null!;

    public async Task InitializeAsync() => _etcd = await EtcdCluster.StartAsync(1, new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);

    public async Task DisposeAsync() => await _etcd.DisposeAsync();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Snapshot_SqliteToEtcdAndEtcdToSqlite_SameKeysAndValues()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var ct = cts.Token;
        var expected = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        for (var i = 0; i < 300; i++)
        {
            expected[$"/snap/{i % 7}/key-{i:D4}-é"] = Encoding.UTF8.GetBytes(new string((char)('a' + i % 26), i % 50));
        }
        expected["/snap/binary"] = [0, 1, 2, 255, 254, 0];

        await using var sqlite = OpenSqlite("a");
        foreach (var (key, value) in expected)
        {
            await sqlite.PutAsync(key, value, cancellationToken: ct);
        }
        await sqlite.DeleteAsync("/snap/0/key-0000-é", ct);
        expected.Remove("/snap/0/key-0000-é");

        using var fromSqlite = new MemoryStream();
        await sqlite.SaveSnapshotAsync(fromSqlite, ct);
        fromSqlite.Position = 0;
        await using var etcdStore = new EtcdStore(new EtcdStoreOptions { Endpoints = _etcd.ClientUrls }, TimeProvider.System, NullLogger<EtcdStore>.Instance);
        await etcdStore.RestoreSnapshotAsync(fromSqlite, ct);
        await AssertHoldsAsync(etcdStore, expected, ct);

        using var fromEtcd = new MemoryStream();
        await etcdStore.SaveSnapshotAsync(fromEtcd, ct);
        fromEtcd.Position = 0;
        await using var sqliteAgain = OpenSqlite("b");
        await sqliteAgain.RestoreSnapshotAsync(fromEtcd, ct);
        await AssertHoldsAsync(sqliteAgain, expected, ct);
    }

    private SqliteStore OpenSqlite(string name) =>
        SqliteStore.Open(new SqliteStoreOptions { DataDirectory = _directory.Combine(name) }, TimeProvider.System, NullLogger<SqliteStore>.Instance);

    private static async Task AssertHoldsAsync(IClusterStore store, SortedDictionary<string, byte[]> expected, CancellationToken ct)
    {
        var all = await store.RangeAsync("", cancellationToken: ct);
        Assert.Equal(expected.Keys, all.Kvs.Select(kv => kv.Key));
        Assert.Equal(expected.Values.Select(Convert.ToHexString), all.Kvs.Select(kv => Convert.ToHexString(kv.Value.Span)));
    }
}
