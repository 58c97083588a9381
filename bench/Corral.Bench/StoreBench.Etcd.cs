using Corral.Bench.RawEtcd;
using Corral.Store.Etcd;
using Corral.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Corral.Bench;

internal static partial class StoreBench
{
    /// <summary>
    /// Starts a fresh etcd cluster of <paramref name="members"/> members and measures EtcdStore against it, with raw etcd
    /// puts sent to the same member EtcdStore prefers (the first endpoint).
    /// </summary>
    private static async Task<StoreBenchFigures> MeasureEtcdAsync(int members, TimeSpan duration, int watchWrites, CancellationToken ct)
    {
        Console.Error.WriteLine($"store: starting etcd with {members} member(s) ...");
        await using var cluster = await EtcdCluster.StartAsync(members, ct);
        using var raw = new RawEtcdPutClient(cluster.ClientUrls[0]);
        await using var store = new EtcdStore(new EtcdStoreOptions { Endpoints = cluster.ClientUrls }, TimeProvider.System, NullLogger<EtcdStore>.Instance);
        Console.Error.WriteLine($"store: measuring EtcdStore and raw etcd on {members} member(s) ...");
        var detail = members == 1 ? "1 member" : $"{members} members, via member 0";
        return await MeasureStoreAsync($"etcd{members}", detail, store, duration, watchWrites, raw, ct);
    }
}
