using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Corral.Bench;

/// <summary>
/// <c>schedule</c>: places <c>--replicas</c> replicas (default 100,000) of <c>--services</c> services (default 1,000) on
/// <c>--nodes</c> registered nodes (default 1,000) through the real <see cref="Server.Controllers.ReconcileController"/>
/// loop (planning from the server's watch-fed tracker, as the server does) and its guarded, batched commits, with
/// simulated agents acknowledging through the server's heartbeat path;
/// on SqliteStore (synchronous=FULL, WAL) and on EtcdStore against a 3-member etcd; and the pure
/// <see cref="Core.Scheduling.Scheduler.Place"/> alone. Options: <c>--backends sqlite,etcd3,pure</c> (default all).
/// A backend that has not converged after 10 minutes is stopped and reported as such.
/// </summary>
internal static partial class ScheduleBench
{
    private const double TargetSqlite = 5000;
    private const double TargetEtcd3 = 3750;
    private const double TargetPure = 50_000;

    private static readonly TimeSpan ConvergeLimit = TimeSpan.FromMinutes(10);

    public static async Task<int> RunAsync(string[] args)
    {
        int replicas = 100_000, services = 1000, nodes = 1000;
        string[] backends = ["pure", "sqlite", "etcd3"];
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--replicas" when i + 1 < args.Length:
                    replicas = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--services" when i + 1 < args.Length:
                    services = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--nodes" when i + 1 < args.Length:
                    nodes = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--backends" when i + 1 < args.Length:
                    backends = args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    break;
                default:
                    return Usage();
            }
        }
        if (replicas < 1 || services < 1 || services > replicas || nodes < 1 || backends.Any(b => b is not ("pure" or "sqlite" or "etcd3")))
        {
            return Usage();
        }

        var loadBefore = LoadAverage();
        var workload = ScheduleWorkload.Create(replicas, services, nodes, DateTimeOffset.UtcNow);
        double? pure = null;
        var figures = new List<ScheduleBenchFigures>();
        if (backends.Contains("pure"))
        {
            pure = MeasurePure(workload);
        }
        if (backends.Contains("sqlite"))
        {
            figures.Add(await MeasureSqliteAsync(workload));
        }
        if (backends.Contains("etcd3"))
        {
            figures.Add(await MeasureEtcdAsync(workload));
        }
        Console.WriteLine($"load average (1 min) before: {loadBefore}, after: {LoadAverage()}; {Environment.ProcessorCount} cores");
        Print(workload, pure, figures);
        return figures.All(f => f.ConvergeSeconds is not null) ? 0 : 1;
    }

    private static int Usage()
    {
        Console.Error.WriteLine("usage: Corral.Bench schedule [--replicas N] [--services N] [--nodes N] [--backends pure,sqlite,etcd3]");
        return 2;
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

    private static void Print(ScheduleWorkload workload, double? pure, List<ScheduleBenchFigures> figures)
    {
        static string N(double? v) => v is null ? "-" : v.Value.ToString("N0", CultureInfo.InvariantCulture);
        static string S(double? v) => v is null ? "-" : v.Value.ToString("0.00", CultureInfo.InvariantCulture) + " s";
        static string Ratio(double? v, double target) => v is null ? "-" : (v.Value / target).ToString("0.00", CultureInfo.InvariantCulture);
        static string Verdict(double? v, double target) => v is null ? "NOT MEASURED" : v >= target ? "MET" : "MISSED";

        Console.WriteLine($"schedule benchmark: {workload.Replicas:N0} replicas of {workload.Services.Count:N0} services on {workload.Nodes.Count:N0} nodes "
            + $"({workload.Nodes[0].CpuCores.ToString(CultureInfo.InvariantCulture)} CPU, {workload.Nodes[0].MemoryBytes >> 30} GiB each);");
        Console.WriteLine("placed = deploy -> last replica committed as assigned (ReconcileController, guarded batched transactions); "
            + "converged = deploy -> last replica acknowledged healthy (heartbeat path)");
        Console.WriteLine();
        Console.WriteLine($"{"backend",-8} {"detail",-34} {"placed in",10} {"placed/s",10} {"converged",10} {"passes",7} {"stale",6} {"failed",6}");
        if (pure is not null)
        {
            Console.WriteLine($"{"pure",-8} {"Scheduler.Place, no store",-34} {S(workload.Replicas / pure),10} {N(pure),10} {"-",10} {"-",7} {"-",6} {"-",6}");
        }
        foreach (var f in figures)
        {
            Console.WriteLine($"{f.Backend,-8} {f.Detail,-34} {S(f.PlacedSeconds),10} {N(f.PlacementsPerSecond),10} {S(f.ConvergeSeconds),10} {f.Passes,7} {f.StalePasses,6} {f.FailedPasses,6}");
        }
        Console.WriteLine();
        foreach (var f in figures.Where(f => f.Problem is not null))
        {
            Console.WriteLine($"{f.Backend}: {f.Problem}");
        }
        if (pure is not null)
        {
            Console.WriteLine($"target: pure scheduler >= {TargetPure:N0} placements/s: {N(pure)}/s, ratio {Ratio(pure, TargetPure)} {Verdict(pure, TargetPure)}");
        }
        foreach (var f in figures)
        {
            var target = f.Backend == "sqlite" ? TargetSqlite : TargetEtcd3;
            Console.WriteLine($"target: {f.Backend} >= {target:N0} placements/s committed: {N(f.PlacementsPerSecond)}/s, ratio {Ratio(f.PlacementsPerSecond, target)} {Verdict(f.PlacementsPerSecond, target)}");
        }

        var json = new JsonObject
        {
            ["command"] = "schedule",
            ["replicas"] = workload.Replicas,
            ["services"] = workload.Services.Count,
            ["nodes"] = workload.Nodes.Count,
        };
        if (pure is not null)
        {
            json["pure"] = new JsonObject { ["placementsPerSec"] = Math.Round(pure.Value), ["ratio"] = Math.Round(pure.Value / TargetPure, 3) };
        }
        foreach (var f in figures)
        {
            var target = f.Backend == "sqlite" ? TargetSqlite : TargetEtcd3;
            json[f.Backend] = new JsonObject
            {
                ["detail"] = f.Detail,
                ["placedSeconds"] = f.PlacedSeconds is { } p ? Math.Round(p, 3) : null,
                ["placementsPerSec"] = f.PlacementsPerSecond is { } r ? Math.Round(r) : null,
                ["ratio"] = f.PlacementsPerSecond is { } q ? Math.Round(q / target, 3) : null,
                ["convergeSeconds"] = f.ConvergeSeconds is { } c ? Math.Round(c, 3) : null,
                ["passes"] = f.Passes,
                ["stalePasses"] = f.StalePasses,
                ["failedPasses"] = f.FailedPasses,
            };
        }
        Console.WriteLine(json.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
    }
}
