using Corral.Bench.RawEtcd;
using Corral.Testing;

namespace Corral.Bench;

internal static partial class StoreBench
{
    private static async Task<StoreBenchFigures> MeasureEtcdAsync(int members, TimeSpan duration, int watchWrites, CancellationToken ct)
    {
        Console.Error.WriteLine($"store: starting etcd with {members} member(s) ...");
        await using var cluster = await EtcdCluster.StartAsync(members, ct);
        using var raw = new RawEtcdPutClient(cluster.ClientUrls[0]);
        Console.Error.WriteLine($"store: raw etcd on {members} member(s) (EtcdStore is not on this branch yet) ...");
        var raw1 = await ThroughputAsync(1, duration, RawPut(raw, "/bench/raw1/", ct), ct);
        var raw32 = await ThroughputAsync(32, duration, RawPut(raw, "/bench/raw32/", ct), ct);
        return new StoreBenchFigures($"etcd{members}", "raw only", null, null, null, null, null, raw1, raw32);
    }
}
