using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Corral.Agent.Logs;
using Corral.Core.Api;
using Corral.Server.Logs;
using Corral.Server.State;
using Corral.Store.Sqlite;
using Corral.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Corral.Bench;

/// <summary>
/// <c>logs [--lines 200000] [--replicas 20]</c>: the central logs' pipeline without the network. Writes the lines into
/// the replicas' segment files (<see cref="TaskLogWriter"/>, 80 characters each), ships them with a
/// <see cref="LogShipper"/> whose send validates and stores each batch in a SQLite store (synchronous=FULL) as
/// <c>POST /v1/agent/logs</c> does, then reads them back (<see cref="LogStore.ReadAsync"/>: everything, and the last
/// 100 lines) and runs a retention pass that halves them.
/// </summary>
internal static class LogsBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var lines = 200_000;
        var replicas = 20;
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--lines" when value is not null:
                    lines = int.Parse(value, CultureInfo.InvariantCulture);
                    i++;
                    break;
                case "--replicas" when value is not null:
                    replicas = int.Parse(value, CultureInfo.InvariantCulture);
                    i++;
                    break;
                default:
                    Console.Error.WriteLine($"logs: unknown or incomplete option '{args[i]}'; usage: logs [--lines N] [--replicas N]");
                    return 2;
            }
        }

        using var dir = new TempDirectory("corral-bench-logs");
        await using var store = SqliteStore.Open(new SqliteStoreOptions { DataDirectory = dir.Combine("store") }, TimeProvider.System, NullLogger<SqliteStore>.Instance);
        var data = dir.Combine("agent");
        var text = Encoding.UTF8.GetBytes(new string('x', 70));
        for (var r = 0; r < replicas; r++)
        {
            using var writer = new TaskLogWriter(Path.Combine(data, "tasks", $"web-{r:D4}", "logs"), 10 * 1024 * 1024, 1000, TimeProvider.System);
            for (var i = 0; i < lines / replicas; i++)
            {
                writer.WriteLine("stdout", [.. Encoding.ASCII.GetBytes(i.ToString("D9", CultureInfo.InvariantCulture)), .. text]);
            }
        }
        var total = lines / replicas * replicas;
        var logBytes = Directory.EnumerateFiles(data, "*.log", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);

        var logStore = new LogStore(store);
        var batches = 0;
        var shipper = new LogShipper(data, "bench", async (batch, ct) =>
        {
            if (LogStore.Validate(batch).Count > 0)
            {
                throw new InvalidOperationException("the shipper built an invalid batch");
            }
            await logStore.WriteAsync(batch.Node, batch.Chunks, ct);
            batches++;
        }, () => [.. Enumerable.Range(0, replicas).Select(r => $"web-{r:D4}")], TimeProvider.System);
        var ship = Stopwatch.StartNew();
        while (await shipper.ShipOnceAsync(CancellationToken.None))
        {
        }
        ship.Stop();

        var storedBytes = (await store.RangeAsync(Keys.Logs)).Kvs.Sum(k => (long)k.Value.Length);
        var read = Stopwatch.StartNew();
        var (all, _) = await logStore.ReadAsync(new LogQuery("web"), new LogCursor(), CancellationToken.None);
        read.Stop();
        var tailWatch = Stopwatch.StartNew();
        var (tail, _) = await logStore.ReadAsync(new LogQuery("web", ReplicaId: "web-0000", Tail: 100), new LogCursor(), CancellationToken.None);
        tailWatch.Stop();
        if (all.Count != total || tail.Count != 100)
        {
            Console.Error.WriteLine($"logs: read {all.Count} of {total} lines and a tail of {tail.Count}");
            return 1;
        }

        var state = new ClusterState(store, TimeProvider.System);
        var retention = new LogRetentionController(state, new LogRetentionOptions { MaxBytes = Math.Max(1024 * 1024, storedBytes / 2) }, TimeProvider.System, NullLogger<LogRetentionController>.Instance);
        var prune = Stopwatch.StartNew();
        var deleted = await retention.EnforceOnceAsync(CancellationToken.None);
        prune.Stop();
        var steady = Stopwatch.StartNew();
        await retention.EnforceOnceAsync(CancellationToken.None);
        steady.Stop();

        var figures = new Dictionary<string, double>
        {
            ["lines"] = total,
            ["replicas"] = replicas,
            ["log_mb"] = Math.Round(logBytes / 1e6, 1),
            ["stored_mb"] = Math.Round(storedBytes / 1e6, 1),
            ["batches"] = batches,
            ["ship_lines_per_s"] = Math.Round(total / ship.Elapsed.TotalSeconds),
            ["ship_mb_per_s"] = Math.Round(logBytes / 1e6 / ship.Elapsed.TotalSeconds, 1),
            ["read_all_s"] = Math.Round(read.Elapsed.TotalSeconds, 2),
            ["read_tail100_ms"] = Math.Round(tailWatch.Elapsed.TotalMilliseconds, 1),
            ["retention_pass_s"] = Math.Round(prune.Elapsed.TotalSeconds, 2),
            ["retention_deleted_chunks"] = deleted,
            ["retention_steady_pass_ms"] = Math.Round(steady.Elapsed.TotalMilliseconds, 1),
        };
        Console.WriteLine("| figure | value |");
        Console.WriteLine("| --- | ---: |");
        foreach (var (name, value) in figures)
        {
            Console.WriteLine($"| {name} | {value.ToString("#,0.##", CultureInfo.InvariantCulture)} |");
        }
        Console.WriteLine(JsonSerializer.Serialize(figures));
        return 0;
    }
}
