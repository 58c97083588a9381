using System.Globalization;
using System.Text;
using Corral.Core.Api;
using Corral.Core.Cluster;
using Corral.Testing;
using Xunit.Abstractions;

namespace Corral.IntegrationTests;

/// <summary>
/// One server and three agents as real processes on loopback, each agent with its own data dir, supervisor and node
/// name: losing a machine, losing the server, draining a node. Every process is killed at the end (see
/// <see cref="NodeCluster"/>).
/// </summary>
public sealed partial class MultiNodeTests
{
    private static readonly string[] Nodes = ["n1", "n2", "n3"];

    private readonly ITestOutputHelper _output;

    public MultiNodeTests(ITestOutputHelper output) => _output = output;

    /// <summary>
    /// A sleeping shell worker with an exec health check (healthy a moment after it starts, not at once), so "healthy"
    /// means what it means for a real service.
    /// </summary>
    private static string Worker(string name, int replicas, string eviction, string? fenceAfter = null) =>
        new StringBuilder()
            .Append("  ").Append(name).Append(":\n")
            .Append("    command: /bin/sh\n")
            .Append("    args: [\"-c\", \"exec sleep 100000\"]\n")
            .Append("    replicas: ").Append(replicas.ToString(CultureInfo.InvariantCulture)).Append('\n')
            .Append("    health: { exec: [\"/bin/true\"], interval: 500ms, timeout: 500ms, retries: 1 }\n")
            .Append("    restart: { policy: always, backoff: 200ms }\n")
            .Append("    stop_timeout: 2s\n")
            .Append("    eviction_timeout: ").Append(eviction).Append('\n')
            .Append(fenceAfter is null ? "" : "    fence_after: " + fenceAfter + "\n")
            .ToString();

    private static async Task DeployAsync(NodeCluster cluster, params string[] services) =>
        await cluster.Client.DeployAsync(Stacks.Request(Stacks.Stack("nodes", services)), CancellationToken.None);

    /// <summary>Waits until every service has its desired count of healthy replicas; returns every replica.</summary>
    private static async Task<IReadOnlyList<ReplicaView>> AllHealthyAsync(NodeCluster cluster, string why, Func<IReadOnlyList<ReplicaView>, bool>? also = null)
    {
        return await Eventually.ValueAsync(async () =>
        {
            cluster.AssertAgentsAlive();
            var services = await cluster.Client.ListServicesAsync(CancellationToken.None);
            var replicas = services.SelectMany(s => s.Replicas).ToList();
            var done = services.Count > 0 && services.All(s => s.Healthy == s.Desired && s.Replicas.Count(r => r.Replica.Active) == s.Desired)
                && (also is null || also(replicas));
            return done ? replicas : null;
        }, NodeCluster.Timeout, why);
    }

    /// <summary>Asserts that the tasks really running on the nodes are exactly the active replicas the API lists, with the same PIDs.</summary>
    private static void AssertProcessesMatchApi(NodeCluster cluster, IReadOnlyList<ReplicaView> replicas, params string[] nodes)
    {
        foreach (var node in nodes)
        {
            var running = cluster.RunningTasks(node);
            var listed = replicas.Where(r => r.Replica.Node == node && r.Replica.Active).ToDictionary(r => r.Replica.Id, r => r.Pid, StringComparer.Ordinal);
            Assert.True(
                running.Count == listed.Count && running.All(t => listed.TryGetValue(t.Key, out var pid) && pid == t.Value),
                $"node {node}: processes {Show(running)} but the API lists {string.Join(", ", listed.Select(l => $"{l.Key}={l.Value}"))}");
        }
        var everywhere = nodes.SelectMany(n => cluster.RunningTasks(n).Keys).ToList();
        Assert.Equal(everywhere.Count, everywhere.Distinct(StringComparer.Ordinal).Count());
    }

    private static string Show(IReadOnlyDictionary<string, int> tasks) => string.Join(", ", tasks.Select(t => $"{t.Key}={t.Value}"));

    private static async Task<long> LatestEventIndexAsync(NodeCluster cluster) =>
        (await cluster.EventsAfterAsync(0)).Select(e => e.Revision).DefaultIfEmpty(0).Max();

    private static string Describe(IEnumerable<ReplicaView> replicas) => string.Join("\n", replicas.Select(DevClusterTests.Describe));

    private static string Describe(IEnumerable<ClusterEvent> events) =>
        string.Join("\n", events.Select(e => $"{e.Time:HH:mm:ss.fff} {e.Kind} {e.Subject}: {e.Message}"));

    private static string Ms(TimeSpan span) => span.TotalMilliseconds.ToString("F0", CultureInfo.InvariantCulture) + " ms";
}
