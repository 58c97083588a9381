using System.Text;
using System.Text.Json;
using Corral.Core;
using Corral.Core.Cluster;
using Corral.Core.Services;
using Corral.Core.Tasks;
using Corral.Server.Agents;
using Corral.Server.Controllers;
using Corral.Server.Leadership;
using Corral.Server.State;
using Corral.Store;
using Corral.Store.Sqlite;
using Corral.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Corral.Server.Tests.Controllers;

/// <summary>
/// A real <see cref="SqliteStore"/> in a temp dir (leases on the system clock) and a manual clock for the controllers,
/// with helpers to write nodes and services and read replicas back.
/// </summary>
internal sealed class StoreHarness : IAsyncDisposable
{
    private readonly TempDirectory _directory = new("corral-server");

    public StoreHarness()
    {
        Store = SqliteStore.Open(new SqliteStoreOptions { DataDirectory = _directory.Combine("store"), Synchronous = SqliteSynchronousMode.Normal }, TimeProvider.System, NullLogger<SqliteStore>.Instance);
        State = new ClusterState(Store, Time);
    }

    public ManualTimeProvider Time { get; } = new(DateTimeOffset.UtcNow);

    public SqliteStore Store { get; }

    public ClusterState State { get; }

    public HeartbeatTable Heartbeats { get; } = new();

    public static ControlPlaneOptions Options { get; } = new() { ServerName = "s1" };

    /// <summary>The watch-fed cache the reconciler plans from, once <see cref="StartCacheAsync"/> ran; otherwise null (store reads).</summary>
    public AssignmentTracker? Cache { get; private set; }

    public async Task StartCacheAsync()
    {
        Cache = new AssignmentTracker(State, TimeProvider.System, NullLogger<AssignmentTracker>.Instance);
        await Cache.StartAsync(CancellationToken.None);
        await Cache.WaitReadyAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
    }

    public ReconcileController Reconciler() => new(State, Cache, Options, Time, NullLogger<ReconcileController>.Instance);

    public NodeMonitor Monitor() => new(State, Heartbeats, Options, Time, NullLogger<NodeMonitor>.Instance);

    public async Task<LeadershipTerm> LeadAsync(string name = "s1", CancellationToken cancellationToken = default) =>
        // No test waits for a TTL to run out; a roomy one keeps starved renewals on a loaded machine from ending the term.
        new(await Store.CampaignAsync(Keys.LeaderElection, Encoding.UTF8.GetBytes(name), new ElectionOptions { Ttl = TimeSpan.FromSeconds(30) }, cancellationToken), name);

    public async Task AddNodesAsync(params string[] names)
    {
        foreach (var name in names)
        {
            await PutNodeAsync(new Node { Name = name, CpuCores = 8, MemoryBytes = 16L << 30, StatusSince = Time.GetUtcNow() });
        }
    }

    public Task PutNodeAsync(Node node) => Store.PutAsync(Keys.Node(node.Name), JsonSerializer.SerializeToUtf8Bytes(node, CoreJson.Default.Node));

    public async Task<Node> GetNodeAsync(string name) => (await State.GetNodeAsync(name, CancellationToken.None))!.Value;

    public static ServiceSpec Service(string name, int replicas, TimeSpan? eviction = null, double? cpu = null) => new()
    {
        Name = name,
        Stack = "test",
        Task = new TaskSpec { Command = "sleep", Args = ["infinity"], Resources = new ResourceLimits(null, cpu) },
        Replicas = replicas,
        EvictionTimeout = eviction ?? ServiceSpec.DefaultEvictionTimeout,
    };

    public Task PutServiceAsync(ServiceSpec service) => Store.PutAsync(Keys.Service(service.Name), JsonSerializer.SerializeToUtf8Bytes(service, CoreJson.Default.ServiceSpec));

    public async Task<List<Replica>> ReplicasAsync()
    {
        var range = await Store.RangeAsync(Keys.Replicas);
        return [.. range.Kvs.Select(kv => JsonSerializer.Deserialize(kv.Value.Span, CoreJson.Default.Replica)!)];
    }

    /// <summary>Rewrites a replica as its node would report it (a write outside the controllers).</summary>
    public async Task SetReplicaAsync(Replica replica) =>
        await Store.PutAsync(Keys.Replica(replica.Id), JsonSerializer.SerializeToUtf8Bytes(replica, CoreJson.Default.Replica));

    public async Task MarkAllHealthyAsync()
    {
        foreach (var replica in await ReplicasAsync())
        {
            if (replica.Phase == ReplicaPhase.Assigned && replica.State != ReplicaState.Healthy)
            {
                await SetReplicaAsync(replica with { State = ReplicaState.Healthy });
            }
        }
    }

    public async Task<List<string>> EventKindsAsync()
    {
        var page = await State.EventsAfterAsync(0, 100_000, CancellationToken.None);
        return [.. page.Events.Select(e => e.Kind)];
    }

    public async ValueTask DisposeAsync()
    {
        if (Cache is not null)
        {
            await Cache.StopAsync(CancellationToken.None);
            Cache.Dispose();
        }
        await Store.DisposeAsync();
        _directory.Dispose();
    }
}
