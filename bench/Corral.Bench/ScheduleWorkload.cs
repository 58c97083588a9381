using System.Globalization;
using Corral.Core.Cluster;
using Corral.Core.Scheduling;
using Corral.Core.Services;
using Corral.Core.Tasks;

namespace Corral.Bench;

/// <summary>
/// The <c>schedule</c> benchmark's cluster: nodes with labels <c>zone=a|b|c|d</c> and enough capacity for every
/// replica (ten times the average demand), and services with varied CPU and memory requests, a named port on every fifth, <c>zone=a</c> with
/// <c>max_per_node</c> on every tenth (offset 3) and <c>max_per_node</c> alone on every tenth (offset 7).
/// </summary>
internal sealed class ScheduleWorkload
{
    private static readonly double[] CpuChoices = [0.1, 0.25, 0.5, 1.0];
    private static readonly long[] MemoryChoices = [64L << 20, 128L << 20, 256L << 20, 512L << 20];

    private ScheduleWorkload(IReadOnlyList<Node> nodes, IReadOnlyList<ServiceSpec> services)
    {
        Nodes = nodes;
        Services = services;
        Replicas = services.Sum(s => s.Replicas);
    }

    public IReadOnlyList<Node> Nodes { get; }

    public IReadOnlyList<ServiceSpec> Services { get; }

    public int Replicas { get; }

    public static ScheduleWorkload Create(int replicas, int serviceCount, int nodeCount, DateTimeOffset now)
    {
        var zoneA = (nodeCount + 3) / 4;
        var services = new List<ServiceSpec>(serviceCount);
        double cpu = 0;
        long memory = 0;
        for (var i = 0; i < serviceCount; i++)
        {
            var count = replicas / serviceCount + (i < replicas % serviceCount ? 1 : 0);
            var placement = PlacementSpec.Anywhere;
            if (i % 10 == 3)
            {
                placement = new PlacementSpec
                {
                    Labels = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["zone"] = "a" },
                    MaxPerNode = MaxPerNode(count, zoneA),
                };
            }
            else if (i % 10 == 7)
            {
                placement = new PlacementSpec { MaxPerNode = MaxPerNode(count, nodeCount) };
            }
            var spec = new ServiceSpec
            {
                Name = "svc-" + i.ToString("D4", CultureInfo.InvariantCulture),
                Stack = "bench",
                Task = new TaskSpec
                {
                    Command = "sleep",
                    Args = ["infinity"],
                    Resources = new ResourceLimits(MemoryChoices[i % MemoryChoices.Length], CpuChoices[i / 4 % CpuChoices.Length]),
                    Ports = i % 5 == 0 ? ["http"] : [],
                },
                Replicas = count,
                Placement = placement,
            };
            services.Add(spec);
            cpu += count * spec.Task.Resources.Cpu!.Value;
            memory += count * spec.Task.Resources.MemoryBytes!.Value;
        }

        // Ten times the average demand: packing fills the fullest nodes first, and the zone=a services (a quarter of
        // the nodes) must still find room on their zone late in the deploy.
        var nodeCpu = Math.Max(8, Math.Ceiling(10 * cpu / nodeCount));
        var nodeMemory = Math.Max(16L << 30, 10 * memory / nodeCount);
        var zones = new[] { "a", "b", "c", "d" };
        var nodes = new List<Node>(nodeCount);
        for (var i = 0; i < nodeCount; i++)
        {
            nodes.Add(new Node
            {
                Name = "node-" + i.ToString("D4", CultureInfo.InvariantCulture),
                Addresses = ["127.0.0.1"],
                Labels = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["zone"] = zones[i % 4] },
                CpuCores = nodeCpu,
                MemoryBytes = nodeMemory,
                StatusSince = now,
            });
        }
        return new ScheduleWorkload(nodes, services);
    }

    /// <summary>Every replica of every service as one scheduler request, service by service (as the reconciler asks).</summary>
    public List<PlacementRequest> Requests()
    {
        var requests = new List<PlacementRequest>(Replicas);
        foreach (var service in Services)
        {
            for (var r = 0; r < service.Replicas; r++)
            {
                requests.Add(new PlacementRequest(service, service.Name + "-" + r.ToString("x8", CultureInfo.InvariantCulture)));
            }
        }
        return requests;
    }

    /// <summary>Twice what spreading evenly would need, so the limit shapes placement but never blocks it.</summary>
    private static int MaxPerNode(int replicas, int nodes) => Math.Max(1, (int)Math.Ceiling(2.0 * replicas / Math.Max(1, nodes)));
}
