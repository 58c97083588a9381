using System.Diagnostics;
using System.Text;
using Corral.Core.Cluster;
using Corral.Core.Tasks;
using Corral.Server.Controllers;
using Corral.Server.Leadership;
using Corral.Server.State;
using Corral.Store;
using Corral.Store.Etcd;
using Corral.Store.Sqlite;
using Corral.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Corral.Bench;

internal static partial class ScheduleBench
{
    /// <summary>etcd's default <c>--max-txn-ops</c>: nodes and services are written this many to a transaction.</summary>
    private const int WriteBatch = 128;

    private static async Task<ScheduleBenchFigures> MeasureSqliteAsync(ScheduleWorkload workload)
    {
        Console.Error.WriteLine("schedule: SqliteStore (synchronous=FULL, WAL) ...");
        using var directory = new TempDirectory("corral-bench-schedule");
        var options = new SqliteStoreOptions { DataDirectory = directory.Path, Synchronous = SqliteSynchronousMode.Full };
        await using var store = SqliteStore.Open(options, TimeProvider.System, NullLogger<SqliteStore>.Instance);
        return await MeasureStoreAsync("sqlite", "SqliteStore, synchronous=FULL, WAL", store, workload);
    }

    private static async Task<ScheduleBenchFigures> MeasureEtcdAsync(ScheduleWorkload workload)
    {
        Console.Error.WriteLine("schedule: starting etcd with 3 members ...");
        using var startCts = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await using var cluster = await EtcdCluster.StartAsync(3, startCts.Token);
        await using var store = new EtcdStore(new EtcdStoreOptions { Endpoints = cluster.ClientUrls }, TimeProvider.System, NullLogger<EtcdStore>.Instance);
        Console.Error.WriteLine("schedule: EtcdStore on 3 members ...");
        return await MeasureStoreAsync("etcd3", "EtcdStore, 3 members (etcd 3.4)", store, workload);
    }

    /// <summary>
    /// Registers the nodes, takes the leadership, runs the reconcile controller's own loop and the simulated agents,
    /// then deploys every service (transactions of <see cref="WriteBatch"/> puts, as fast as the store takes them) and
    /// waits until every replica is placed and acknowledged, at most <see cref="ConvergeLimit"/>. Then checks the
    /// final state: the desired count of each service, every replica healthy, no node over its CPU or memory, and
    /// every label and <c>max_per_node</c> constraint held.
    /// </summary>
    private static async Task<ScheduleBenchFigures> MeasureStoreAsync(string backend, string detail, IClusterStore store, ScheduleWorkload workload)
    {
        using var cts = new CancellationTokenSource(ConvergeLimit + TimeSpan.FromMinutes(2));
        var ct = cts.Token;
        var state = new ClusterState(store, TimeProvider.System);
        await WriteAllAsync(store, workload.Nodes.Select(ClusterState.PutNode), ct);

        var term = new LeadershipTerm(await store.CampaignAsync(Keys.LeaderElection, Encoding.UTF8.GetBytes("bench"), null, ct), "bench");
        await using var leadership = term.Leadership;
        using var runCts = CancellationTokenSource.CreateLinkedTokenSource(ct, term.Token);
        var from = await store.GetRevisionAsync(ct) + 1;

        await using var agents = new SimulatedAgents(state, workload.Replicas);
        await agents.StartAsync(from, ct);
        // As in the server: the reconciler plans from the same watch-fed tracker the agents' heartbeats go through.
        var logger = new CountingLogger<ReconcileController> { Echo = true };
        var controller = new ReconcileController(state, agents.Tracker, new ControlPlaneOptions { ServerName = "bench" }, TimeProvider.System, logger);
        var running = Task.Run(() => controller.RunAsync(term, runCts.Token), CancellationToken.None);

        var start = Stopwatch.GetTimestamp();
        agents.MarkDeploy();
        await WriteAllAsync(store, workload.Services.Select(ClusterState.PutService), ct);

        double? placed = null, converged = null;
        string? problem = null;
        var deadline = Task.Delay(ConvergeLimit, ct);
        var progress = Stopwatch.GetTimestamp();
        while (converged is null)
        {
            var done = await Task.WhenAny(agents.AllAcknowledged, deadline, Task.Delay(TimeSpan.FromSeconds(10), ct));
            if (agents.AllPlaced.IsCompleted)
            {
                placed = (await agents.AllPlaced).TotalSeconds;
            }
            if (agents.AllAcknowledged.IsCompleted)
            {
                converged = (await agents.AllAcknowledged).TotalSeconds;
            }
            else if (done == deadline)
            {
                problem = $"did not converge within {ConvergeLimit.TotalMinutes:0} minutes: {agents.Placed:N0} of {workload.Replicas:N0} placed, "
                    + $"{agents.Acknowledged:N0} acknowledged; stopped";
                Console.Error.WriteLine($"schedule: {backend} {problem}");
                break;
            }
            else if (running.IsCompleted)
            {
                problem = "the reconcile loop ended early: " + (running.Exception?.GetBaseException().Message ?? "leadership lost");
                break;
            }
            else if (Stopwatch.GetElapsedTime(progress) >= TimeSpan.FromSeconds(10))
            {
                progress = Stopwatch.GetTimestamp();
                Console.Error.WriteLine($"schedule: {backend} {Stopwatch.GetElapsedTime(start).TotalSeconds:0} s: {agents.Placed:N0} placed, {agents.Acknowledged:N0} acknowledged");
            }
        }

        await runCts.CancelAsync();
        await running.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (converged is not null)
        {
            problem = await VerifyAsync(state, workload, ct);
        }
        if (logger.Count(4606) > 0 || logger.Count(4603) > 0)
        {
            problem = (problem is null ? "" : problem + "; ") + "last problem logged: " + logger.LastProblem;
        }
        Console.Error.WriteLine($"schedule: {backend} placed in {placed:0.00} s, converged in {converged:0.00} s");
        return new ScheduleBenchFigures(backend, detail, workload.Replicas, placed, converged,
            logger.Count(4600), logger.Count(4601), logger.Count(4606), problem);
    }

    private static async Task WriteAllAsync(IClusterStore store, IEnumerable<TxnOp> puts, CancellationToken ct)
    {
        foreach (var chunk in puts.Chunk(WriteBatch))
        {
            var result = await store.TxnAsync(new Txn([], chunk, []), ct);
            if (!result.Succeeded)
            {
                throw new InvalidOperationException("an unconditional transaction failed");
            }
        }
    }

    /// <summary>Null when the final state honours the workload; otherwise what is wrong.</summary>
    private static async Task<string?> VerifyAsync(ClusterState state, ScheduleWorkload workload, CancellationToken ct)
    {
        var snapshot = await state.ReadAsync(ct);
        var replicas = snapshot.Replicas.Values.Select(v => v.Value).ToList();
        var nodes = workload.Nodes.ToDictionary(n => n.Name, StringComparer.Ordinal);
        if (replicas.Count != workload.Replicas)
        {
            return $"{replicas.Count} replicas in the store, expected {workload.Replicas}";
        }
        if (replicas.FirstOrDefault(r => r.Phase != ReplicaPhase.Assigned || r.State != ReplicaState.Healthy || r.Node is null) is { } bad)
        {
            return $"replica {bad.Id} is {bad.Phase}/{bad.State} on {bad.Node ?? "no node"}";
        }
        foreach (var service in workload.Services)
        {
            var mine = replicas.Where(r => r.Service == service.Name).ToList();
            if (mine.Count != service.Replicas)
            {
                return $"service {service.Name} has {mine.Count} replicas, wants {service.Replicas}";
            }
            if (service.Placement.MaxPerNode is { } max && mine.GroupBy(r => r.Node).Max(g => g.Count()) > max)
            {
                return $"service {service.Name} exceeds max_per_node {max}";
            }
            if (mine.FirstOrDefault(r => !Core.Scheduling.Scheduler.Fits(nodes[r.Node!], service.Placement)) is { } misplaced)
            {
                return $"replica {misplaced.Id} is on {misplaced.Node}, which does not match its placement";
            }
        }
        foreach (var group in replicas.GroupBy(r => r.Node!))
        {
            var node = nodes[group.Key];
            if (group.Sum(r => r.CpuCores) > node.CpuCores + 1e-6 || group.Sum(r => r.MemoryBytes) > node.MemoryBytes)
            {
                return $"node {node.Name} is over its capacity";
            }
        }
        return null;
    }
}
