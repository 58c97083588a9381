using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Corral.Bench.RawEtcd;
using Corral.Store;
using Corral.Store.Sqlite;
using Corral.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Corral.Bench;

/// <summary>
/// <c>store</c>: put throughput with 1 and 32 callers, CAS throughput with 32 callers, and watch delivery latency, for
/// SqliteStore (synchronous=FULL unless <c>--sqlite-synchronous normal</c>), EtcdStore on 1 member and EtcdStore on 3 members, each etcd figure beside raw etcd
/// puts at the same concurrency through a bare gRPC client (bench/Corral.Bench/RawEtcd, no Corral code).
/// Options: <c>--seconds N</c> (per throughput figure, default 3), <c>--watch-writes N</c> (default 2000),
/// <c>--backends sqlite,etcd1,etcd3</c> (default all), <c>--sqlite-synchronous full|normal</c> (default full).
/// </summary>
internal static partial class StoreBench
{
    private const double TargetRatio = 0.90;
    private const double TargetWatchP99Ms = 5.0;
    private const double TargetSqlitePut32 = 5000;

    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = 3.0;
        var watchWrites = 2000;
        string[] backends = ["sqlite", "etcd1", "etcd3"];
        var synchronous = SqliteSynchronousMode.Full;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--seconds" when i + 1 < args.Length:
                    seconds = double.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--watch-writes" when i + 1 < args.Length:
                    watchWrites = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--sqlite-synchronous" when i + 1 < args.Length:
                    synchronous = Enum.Parse<SqliteSynchronousMode>(args[++i], ignoreCase: true);
                    break;
                case "--backends" when i + 1 < args.Length:
                    backends = args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    break;
                default:
                    Console.Error.WriteLine("usage: Corral.Bench store [--seconds N] [--watch-writes N] [--backends sqlite,etcd1,etcd3] [--sqlite-synchronous full|normal]");
                    return 2;
            }
        }
        var duration = TimeSpan.FromSeconds(seconds);
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(20));
        var ct = cts.Token;
        var loadBefore = LoadAverage();
        var figures = new List<StoreBenchFigures>();
        if (backends.Contains("sqlite"))
        {
            figures.Add(await MeasureSqliteAsync(synchronous, duration, watchWrites, ct));
        }
        foreach (var members in new[] { 1, 3 })
        {
            if (backends.Contains($"etcd{members}"))
            {
                figures.Add(await MeasureEtcdAsync(members, duration, watchWrites, ct));
            }
        }
        Console.WriteLine($"load average (1 min) before: {loadBefore}, after: {LoadAverage()}; {Environment.ProcessorCount} cores");
        Print(figures, seconds);
        return 0;
    }

    private static async Task<StoreBenchFigures> MeasureSqliteAsync(SqliteSynchronousMode synchronous, TimeSpan duration, int watchWrites, CancellationToken ct)
    {
        var mode = synchronous == SqliteSynchronousMode.Full ? "FULL" : "NORMAL";
        Console.Error.WriteLine($"store: measuring SqliteStore (synchronous={mode}) ...");
        using var directory = new TempDirectory("corral-bench-sqlite");
        var options = new SqliteStoreOptions { DataDirectory = directory.Path, Synchronous = synchronous };
        await using var store = SqliteStore.Open(options, TimeProvider.System, NullLogger<SqliteStore>.Instance);
        return await MeasureStoreAsync("sqlite", $"synchronous={mode}, WAL", store, duration, watchWrites, raw: null, ct);
    }

    /// <summary>Measures one store; when <paramref name="raw"/> is given, raw etcd puts are measured right before the store's at each concurrency.</summary>
    private static async Task<StoreBenchFigures> MeasureStoreAsync(string backend, string detail, IClusterStore store, TimeSpan duration, int watchWrites, RawEtcdPutClient? raw, CancellationToken ct)
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var (put1, raw1) = await PairedThroughputAsync(
            1, duration, StorePut(store, $"/bench/{run}/put1/", ct), raw is null ? null : RawPut(raw, $"/bench/{run}/raw1/", ct), ct);
        var (put32, raw32) = await PairedThroughputAsync(
            32, duration, StorePut(store, $"/bench/{run}/put32/", ct), raw is null ? null : RawPut(raw, $"/bench/{run}/raw32/", ct), ct);
        var cas32 = await CasThroughputAsync(store, $"/bench/{run}/cas/", 32, duration, ct);
        var (p50, p99, putP99) = await WatchLatencyAsync(store, $"/bench/{run}/watch/", watchWrites, ct);
        return new StoreBenchFigures(backend, detail, put1, put32, cas32, p50, p99, putP99, raw1, raw32);
    }

    private static string LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ')[0];
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    private static double? Round(double? value, int digits) => value is null ? null : Math.Round(value.Value, digits);

    private static Func<int, long, Task> RawPut(RawEtcdPutClient raw, string prefix, CancellationToken ct) =>
        (worker, i) => raw.PutAsync(System.Text.Encoding.UTF8.GetBytes(PutKey(prefix, worker, i)), Value64, ct);

    private static void Print(List<StoreBenchFigures> figures, double seconds)
    {
        static string N(double? v) => v is null ? "-" : v.Value.ToString("N0", CultureInfo.InvariantCulture);
        static string Ms(double? v) => v is null ? "-" : v.Value.ToString("0.00", CultureInfo.InvariantCulture) + " ms";
        static string Verdict(bool? met) => met switch { true => "MET", false => "MISSED", null => "NOT MEASURED" };
        static string Pct(double? v) => v is null ? "-" : (v.Value * 100).ToString("0", CultureInfo.InvariantCulture) + "%";

        Console.WriteLine($"store benchmark: {seconds.ToString(CultureInfo.InvariantCulture)} s per throughput figure (raw etcd and the store alternate in {Rounds} rounds), 64-byte values, 100 keys per caller;");
        Console.WriteLine("CAS = 32 callers each compare-and-swap their own key; watch latency = put issued -> event received by a watcher, sequential puts; put p99 = those puts' own latency");
        Console.WriteLine();
        Console.WriteLine($"{"backend",-8} {"detail",-26} {"put x1/s",10} {"raw x1/s",10} {"x1 ratio",8} {"put x32/s",10} {"raw x32/s",10} {"x32 ratio",9} {"CAS x32/s",10} {"watch p50",10} {"watch p99",10} {"put p99",10}");
        foreach (var f in figures)
        {
            Console.WriteLine($"{f.Backend,-8} {f.Detail,-26} {N(f.Put1),10} {N(f.RawPut1),10} {Pct(f.Ratio1),8} {N(f.Put32),10} {N(f.RawPut32),10} {Pct(f.Ratio32),9} {N(f.Cas32),10} {Ms(f.WatchP50Ms),10} {Ms(f.WatchP99Ms),10} {Ms(f.PutP99Ms),10}");
        }
        Console.WriteLine();
        foreach (var sqlite in figures.Where(f => f.Backend == "sqlite"))
        {
            Console.WriteLine($"target: SqliteStore durable ({sqlite.Detail}) puts x32 >= {TargetSqlitePut32:N0}/s: {N(sqlite.Put32)}/s {Verdict(sqlite.Put32 >= TargetSqlitePut32)}");
        }
        foreach (var f in figures.Where(f => f.RawPut32 is not null))
        {
            bool? met = f.Ratio1 is null || f.Ratio32 is null ? null : f.Ratio1 >= TargetRatio && f.Ratio32 >= TargetRatio;
            Console.WriteLine($"target: {f.Backend} EtcdStore >= {TargetRatio * 100:0}% of raw etcd: x1 {Pct(f.Ratio1)}, x32 {Pct(f.Ratio32)} {Verdict(met)}");
        }
        foreach (var f in figures)
        {
            Console.WriteLine($"target: {f.Backend} watch p99 <= {TargetWatchP99Ms} ms: {Ms(f.WatchP99Ms)} {Verdict(f.WatchP99Ms is null ? null : f.WatchP99Ms <= TargetWatchP99Ms)}");
        }

        var json = new JsonObject { ["command"] = "store", ["seconds"] = seconds };
        foreach (var f in figures)
        {
            var node = new JsonObject
            {
                ["detail"] = f.Detail,
                ["put1PerSec"] = Round(f.Put1, 0),
                ["put32PerSec"] = Round(f.Put32, 0),
                ["cas32PerSec"] = Round(f.Cas32, 0),
                ["watchP50Ms"] = Round(f.WatchP50Ms, 3),
                ["watchP99Ms"] = Round(f.WatchP99Ms, 3),
                ["putP99Ms"] = Round(f.PutP99Ms, 3),
            };
            if (f.RawPut1 is not null)
            {
                node["rawPut1PerSec"] = Round(f.RawPut1, 0);
                node["rawPut32PerSec"] = Round(f.RawPut32, 0);
                node["ratio1"] = Round(f.Ratio1, 3);
                node["ratio32"] = Round(f.Ratio32, 3);
            }
            json[f.Backend] = node;
        }
        Console.WriteLine(json.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
    }
}
