using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Corral.Core;
using Corral.Core.Api;
using Corral.Core.Cluster;

namespace Corral.Bench;

/// <summary>
/// <c>node-loss [--runs 10] [--nodes 3] [--eviction 5s] [--grace 2s]</c>: a real server and real agents (each with its
/// own data dir and supervisor) running a 2-replica service with an exec health check every 250 ms. Each run SIGKILLs
/// every process of one replica's machine (agent, supervisor and tasks) and polls the API every 10 ms until the service
/// again has all its replicas healthy, none on the lost node; the figure is that time minus the eviction timeout. The
/// machine is then brought back (same data dir) and the cluster left to settle before the next run.
/// </summary>
internal static class NodeLossBench
{
    private const string Usage = "usage: node-loss [--runs 10] [--nodes 3] [--eviction 5s] [--grace 2s]";
    private const int Replicas = 2;

    public static async Task<int> RunAsync(string[] args)
    {
        var runs = 10;
        var nodes = 3;
        var eviction = TimeSpan.FromSeconds(5);
        var grace = TimeSpan.FromSeconds(2);
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--runs" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var r) && r > 0:
                    runs = r;
                    break;
                case "--nodes" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > Replicas:
                    nodes = n;
                    break;
                case "--eviction" when Durations.TryParse(value, out var e):
                    eviction = e;
                    break;
                case "--grace" when Durations.TryParse(value, out var g):
                    grace = g;
                    break;
                default:
                    Console.Error.WriteLine($"node-loss: unknown or incomplete option '{args[i]}'; {Usage} (--nodes more than {Replicas})");
                    return 2;
            }
            i++;
        }
        await using var cluster = await BenchCluster.StartAsync(Durations.Format(grace));
        return await RunAsync(cluster, runs, nodes, eviction, grace);
    }

    private static async Task<int> RunAsync(BenchCluster cluster, int runs, int nodeCount, TimeSpan eviction, TimeSpan grace)
    {
        var client = cluster.Client;
        var names = Enumerable.Range(1, nodeCount).Select(i => "n" + i.ToString(CultureInfo.InvariantCulture)).ToList();
        foreach (var name in names)
        {
            await cluster.StartAgentAsync(name);
        }
        await BenchCluster.WaitAsync(async () =>
        {
            var listed = await client.ListNodesAsync(CancellationToken.None);
            return names.All(n => listed.Any(v => v.Node.Name == n && v.Node.Status == NodeStatus.Ready && v.LastHeartbeat is not null));
        }, "every agent to join");
        var stack = "stack: loss\nservices:\n  web:\n    command: /bin/sh\n    args: [\"-c\", \"exec sleep 100000\"]\n"
            + $"    replicas: {Replicas}\n"
            + "    health: { exec: [\"/bin/true\"], interval: 250ms, timeout: 250ms, retries: 1 }\n"
            + "    restart: { policy: always, backoff: 200ms }\n    stop_timeout: 2s\n"
            + $"    eviction_timeout: {Durations.Format(eviction)}\n";
        await client.DeployAsync(new DeployRequest(stack, "loss.yaml", false), CancellationToken.None);

        var totals = new List<double>();
        var lostAfter = new List<double>();
        for (var run = 0; run < runs; run++)
        {
            var replicas = await SettledAsync(cluster, names);
            var victim = replicas.Where(r => r.Replica.Active).Select(r => r.Replica.Node!).OrderBy(n => n, StringComparer.Ordinal).ElementAt(run % Replicas);
            var fromEvent = (await client.GetStatusAsync(CancellationToken.None)).Revision;

            var (killedAt, killedTimestamp) = await cluster.KillMachineAsync(victim);
            await BenchCluster.WaitAsync(async () =>
            {
                var now = await client.ListReplicasAsync("web", null, CancellationToken.None);
                return now.Count(r => r.Replica.Healthy) == Replicas && !now.Any(r => r.Replica.Node == victim && r.Replica.Active);
            }, $"run {run + 1}: the replicas of {victim} healthy elsewhere", eviction + TimeSpan.FromMinutes(1));
            var total = Stopwatch.GetElapsedTime(killedTimestamp);
            totals.Add(total.TotalMilliseconds);

            var events = await client.GetEventsAsync(fromEvent, null, null, CancellationToken.None);
            var lost = events.Events.Where(e => e.Kind == "replica.lost").Select(e => e.Time).DefaultIfEmpty(DateTimeOffset.UtcNow).Min();
            lostAfter.Add((lost - killedAt).TotalMilliseconds);
            var down = events.Events.Where(e => e.Kind == "node.down").Select(e => e.Time).DefaultIfEmpty(DateTimeOffset.UtcNow).Min();
            Console.Error.WriteLine($"node-loss: run {run + 1}/{runs}: {victim} killed; down after {(down - killedAt).TotalMilliseconds:0} ms, replicas lost after {(lost - killedAt).TotalMilliseconds:0} ms, healthy elsewhere after {total.TotalMilliseconds:0} ms ({(total - eviction).TotalMilliseconds:0} ms beyond the eviction timeout)");

            // The machine comes back for the next run.
            var back = DateTimeOffset.UtcNow;
            await cluster.StartAgentAsync(victim);
            await BenchCluster.WaitAsync(async () =>
            {
                var node = await client.GetNodeAsync(victim, CancellationToken.None);
                return node.Node.Status == NodeStatus.Ready && node.LastHeartbeat > back;
            }, $"{victim} to come back");
        }

        var beyond = totals.Select(t => t - eviction.TotalMilliseconds).Order().ToList();
        var sortedTotals = totals.Order().ToList();
        var sortedLost = lostAfter.Order().ToList();
        Console.WriteLine("| figure | value | target |");
        Console.WriteLine("| --- | --- | --- |");
        Console.WriteLine($"| runs (nodes {nodeCount}, replicas {Replicas}, heartbeat_grace {Durations.Format(grace)}, eviction_timeout {Durations.Format(eviction)}) | {runs} | |");
        Console.WriteLine($"| kill -9 to replicas lost, p50 / max | {Percentile(sortedLost, 50):0} / {sortedLost[^1]:0} ms | |");
        Console.WriteLine($"| kill -9 to healthy elsewhere, p50 / p99 | {Percentile(sortedTotals, 50):0} / {Percentile(sortedTotals, 99):0} ms | |");
        Console.WriteLine($"| minus the eviction timeout, p50 | {Percentile(beyond, 50):0} ms | |");
        Console.WriteLine($"| minus the eviction timeout, p99 | {Percentile(beyond, 99):0} ms | <= 1000 ms |");
        Console.WriteLine($"| minus the eviction timeout, min / max | {beyond[0]:0} / {beyond[^1]:0} ms | |");
        var json = new Dictionary<string, object>
        {
            ["command"] = "node-loss",
            ["runs"] = runs,
            ["nodes"] = nodeCount,
            ["replicas"] = Replicas,
            ["heartbeat_grace_ms"] = grace.TotalMilliseconds,
            ["eviction_timeout_ms"] = eviction.TotalMilliseconds,
            ["lost_after_kill_p50_ms"] = Math.Round(Percentile(sortedLost, 50)),
            ["healthy_after_kill_p50_ms"] = Math.Round(Percentile(sortedTotals, 50)),
            ["healthy_after_kill_p99_ms"] = Math.Round(Percentile(sortedTotals, 99)),
            ["beyond_eviction_p50_ms"] = Math.Round(Percentile(beyond, 50)),
            ["beyond_eviction_p99_ms"] = Math.Round(Percentile(beyond, 99)),
            ["beyond_eviction_min_ms"] = Math.Round(beyond[0]),
            ["beyond_eviction_max_ms"] = Math.Round(beyond[^1]),
        };
        Console.WriteLine(JsonSerializer.Serialize(json));
        return 0;
    }

    /// <summary>Waits until every node is ready and the service has all its replicas healthy, nothing pending or stopping.</summary>
    private static async Task<IReadOnlyList<ReplicaView>> SettledAsync(BenchCluster cluster, IReadOnlyList<string> names)
    {
        IReadOnlyList<ReplicaView> replicas = [];
        await BenchCluster.WaitAsync(async () =>
        {
            var nodes = await cluster.Client.ListNodesAsync(CancellationToken.None);
            replicas = await cluster.Client.ListReplicasAsync("web", null, CancellationToken.None);
            return names.All(n => nodes.Any(v => v.Node.Name == n && v.Node.Status == NodeStatus.Ready))
                && replicas.Count(r => r.Replica.Healthy) == Replicas && replicas.Count(r => r.Replica.Active) == Replicas;
        }, "the cluster to settle", TimeSpan.FromMinutes(2));
        return replicas;
    }

    private static double Percentile(List<double> sorted, double percentile) =>
        sorted[Math.Clamp((int)Math.Ceiling(percentile / 100.0 * sorted.Count) - 1, 0, sorted.Count - 1)];
}
