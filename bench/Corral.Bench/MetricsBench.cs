using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Corral.Core;
using Corral.Core.Api;
using Corral.Core.Cluster;
using Corral.Core.Services;
using Corral.Core.Tasks;
using Corral.Server.Agents;
using Corral.Server.Controllers;
using Corral.Server.Metrics;
using Corral.Server.State;
using Corral.Store;
using Corral.Store.Sqlite;
using Corral.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Corral.Bench;

/// <summary>
/// <c>metrics [--nodes 200] [--replicas 1000] [--services 50] [--rounds 50]</c>: what one <c>/metrics</c> scrape costs
/// on a SQLite store holding that cluster, with a heartbeat (stats) from every node and a report from every replica:
/// the refresh (one snapshot read) and the render (observable gauges, counters, histograms to text), timed apart and
/// together. Warm-up rounds (JIT) are not counted. Budget: the whole scrape within 50 ms at 1,000 replicas.
/// </summary>
internal static class MetricsBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        int nodes = 200, replicas = 1000, services = 50, rounds = 50;
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            if (value is null || !int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1)
            {
                Console.Error.WriteLine($"metrics: unknown or incomplete option '{args[i]}'; usage: metrics [--nodes 200] [--replicas 1000] [--services 50] [--rounds 50]");
                return 2;
            }
            switch (args[i])
            {
                case "--nodes": nodes = n; break;
                case "--replicas": replicas = n; break;
                case "--services": services = n; break;
                case "--rounds": rounds = n; break;
                default:
                    Console.Error.WriteLine($"metrics: unknown option '{args[i]}'");
                    return 2;
            }
            i++;
        }

        using var dir = new TempDirectory("corral-bench-metrics");
        await using var store = new InstrumentedStore(SqliteStore.Open(new SqliteStoreOptions { DataDirectory = dir.Combine("store") }, TimeProvider.System, NullLogger<SqliteStore>.Instance));
        var state = new ClusterState(store, TimeProvider.System);
        var heartbeats = new HeartbeatTable();
        var now = DateTimeOffset.UtcNow;
        var ops = new List<TxnOp>();
        for (var n = 0; n < nodes; n++)
        {
            ops.Add(ClusterState.PutNode(new Node { Name = $"node-{n:D3}", CpuCores = 8, MemoryBytes = 16L << 30, StatusSince = now }));
        }
        for (var s = 0; s < services; s++)
        {
            ops.Add(ClusterState.PutService(new ServiceSpec { Name = $"svc-{s:D2}", Stack = "bench", Task = new TaskSpec { Command = "sleep" }, Replicas = replicas / services }));
        }
        var reports = new Dictionary<string, List<ReplicaReport>>(StringComparer.Ordinal);
        for (var r = 0; r < replicas; r++)
        {
            var node = $"node-{r % nodes:D3}";
            var id = $"svc-{r % services:D2}-{r:x8}";
            ops.Add(ClusterState.PutReplica(new Replica { Id = id, Service = $"svc-{r % services:D2}", Version = "v1", Node = node, Phase = ReplicaPhase.Assigned, State = ReplicaState.Healthy, CreatedRevision = r + 1 }));
            if (!reports.TryGetValue(node, out var list))
            {
                reports[node] = list = [];
            }
            list.Add(new ReplicaReport(id, ReplicaState.Healthy, now, "", 1000 + r, null, null, 1.5, 50L << 20, 0));
        }
        foreach (var chunk in ops.Chunk(100))
        {
            await store.TxnAsync(new Txn([], [.. chunk], []));
        }
        for (var n = 0; n < nodes; n++)
        {
            var node = $"node-{n:D3}";
            heartbeats.Record(new AgentHeartbeat(node, reports.GetValueOrDefault(node) ?? [], 12.5, 4L << 30, 0.5, 10L << 30, 100L << 30), now);
        }

        // As on a server: the watch-fed cache of services, replicas and nodes that the agent endpoints keep.
        using var tracker = new AssignmentTracker(state, TimeProvider.System, NullLogger<AssignmentTracker>.Instance);
        await tracker.StartAsync(CancellationToken.None);
        await tracker.WaitReadyAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
        await using var provider = new ServiceCollection().AddSingleton(tracker).BuildServiceProvider();
        using var metrics = new CorralMetrics(state, heartbeats, provider);
        using var exporter = new PrometheusExporter(meter => meter.Name.StartsWith(Instrumentation.MeterPrefix, StringComparison.Ordinal)
            && (meter.Name != metrics.Meter.Name || ReferenceEquals(meter, metrics.Meter)));

        var refresh = new List<double>();
        var render = new List<double>();
        var total = new List<double>();
        var bytes = 0;
        var series = 0;
        var cpu = TimeSpan.Zero;
        for (var round = -5; round < rounds; round++)
        {
            var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var started = Stopwatch.GetTimestamp();
            await metrics.RefreshAsync(CancellationToken.None);
            var refreshed = Stopwatch.GetTimestamp();
            var text = new StringBuilder(256 * 1024);
            exporter.Render(text);
            var body = Encoding.UTF8.GetBytes(text.ToString());
            var done = Stopwatch.GetTimestamp();
            if (round < 0)
            {
                continue;
            }
            cpu += Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
            refresh.Add(Stopwatch.GetElapsedTime(started, refreshed).TotalMilliseconds);
            render.Add(Stopwatch.GetElapsedTime(refreshed, done).TotalMilliseconds);
            total.Add(Stopwatch.GetElapsedTime(started, done).TotalMilliseconds);
            bytes = body.Length;
            series = text.ToString().Split('\n').Count(l => l.Length > 0 && l[0] != '#');
        }

        await tracker.StopAsync(CancellationToken.None);
        Console.WriteLine($"/metrics scrape: {nodes} nodes, {services} services, {replicas} replicas (SQLite), {rounds} rounds after 5 warm-up");
        Console.WriteLine($"{"phase",-10} {"p50 ms",8} {"p95 ms",8} {"max ms",8}");
        foreach (var (name, values) in new[] { ("refresh", refresh), ("render", render), ("total", total) })
        {
            Console.WriteLine($"{name,-10} {Pct(values, 50),8:F2} {Pct(values, 95),8:F2} {values.Max(),8:F2}");
        }
        var cpuPerScrape = cpu.TotalMilliseconds / rounds;
        Console.WriteLine($"CPU per scrape (the process's CPU time over all rounds / rounds; insensitive to other load): {cpuPerScrape:F2} ms");
        Console.WriteLine($"output: {bytes:N0} bytes, {series:N0} series; budget: total p95 <= 50 ms: {(Pct(total, 95) <= 50 ? "met" : "MISSED")}");
        Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["bench"] = "metrics",
            ["nodes"] = nodes,
            ["services"] = services,
            ["replicas"] = replicas,
            ["refresh_p50_ms"] = Math.Round(Pct(refresh, 50), 2),
            ["render_p50_ms"] = Math.Round(Pct(render, 50), 2),
            ["total_p50_ms"] = Math.Round(Pct(total, 50), 2),
            ["total_p95_ms"] = Math.Round(Pct(total, 95), 2),
            ["total_max_ms"] = Math.Round(total.Max(), 2),
            ["cpu_ms_per_scrape"] = Math.Round(cpuPerScrape, 2),
            ["bytes"] = bytes,
            ["series"] = series,
        }));
        return 0;
    }

    private static double Pct(List<double> values, int percentile)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(percentile / 100.0 * sorted.Count) - 1, 0, sorted.Count - 1)];
    }
}
