using System.Globalization;
using Corral.Core.Cluster;
using Corral.Core.Services;

namespace Corral.Core.Scheduling;

/// <summary>
/// Places replicas on nodes: a pure function of a read-only view (nodes and the replicas holding resources) and the
/// requests. For each replica: feasibility (node ready and eligible, pin, labels, CPU, memory, ports,
/// <c>max_per_node</c>), then scoring (fewest replicas of the same service first, to spread; then the fullest node,
/// to pack), then the best node. Each placement updates the view, so one plan never over-commits a node.
/// </summary>
/// <remarks>See src/Corral.Core/Scheduling/README.md for the pipeline.</remarks>
public static class Scheduler
{
    /// <summary>Computes a decision for every request, in request order.</summary>
    public static IReadOnlyList<PlacementDecision> Place(IReadOnlyList<Node> nodes, IReadOnlyList<Replica> replicas, IReadOnlyList<PlacementRequest> requests)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(replicas);
        ArgumentNullException.ThrowIfNull(requests);
        var view = new ClusterView(nodes, replicas);
        var decisions = new PlacementDecision[requests.Count];
        ServiceCandidates? candidates = null;
        for (var i = 0; i < requests.Count; i++)
        {
            var request = requests[i];
            if (candidates is null || !ReferenceEquals(candidates.Service, request.Service))
            {
                candidates = view.CandidatesFor(request.Service);
            }
            decisions[i] = view.PlaceOne(candidates, request);
        }
        return decisions;
    }

    /// <summary>True when <paramref name="node"/> passes the static checks of <paramref name="placement"/> (pin and labels).</summary>
    public static bool Fits(Node node, PlacementSpec placement) =>
        (placement.Node is null || string.Equals(placement.Node, node.Name, StringComparison.Ordinal))
        && ClusterView.MissingLabel(node, placement) is null;

    /// <summary>Mutable bookkeeping for one scheduling pass; never escapes <see cref="Place"/>.</summary>
    private sealed class ClusterView
    {
        private readonly Node[] _nodes;
        private readonly double[] _freeCpu;
        private readonly long[] _freeMemory;
        private readonly int[] _freePorts;
        private readonly Dictionary<string, int> _index;
        private readonly Dictionary<string, int[]> _serviceCounts = new(StringComparer.Ordinal);

        public ClusterView(IReadOnlyList<Node> nodes, IReadOnlyList<Replica> replicas)
        {
            _nodes = [.. nodes];
            _freeCpu = new double[_nodes.Length];
            _freeMemory = new long[_nodes.Length];
            _freePorts = new int[_nodes.Length];
            _index = new Dictionary<string, int>(_nodes.Length, StringComparer.Ordinal);
            for (var i = 0; i < _nodes.Length; i++)
            {
                _freeCpu[i] = _nodes[i].CpuCores;
                _freeMemory[i] = _nodes[i].MemoryBytes;
                _freePorts[i] = _nodes[i].PortCapacity;
                _index[_nodes[i].Name] = i;
            }
            foreach (var replica in replicas)
            {
                if (!replica.Active || replica.Node is null || !_index.TryGetValue(replica.Node, out var n))
                {
                    continue;
                }
                _freeCpu[n] -= replica.CpuCores;
                _freeMemory[n] -= replica.MemoryBytes;
                _freePorts[n] -= replica.PortCount;
                CountsOf(replica.Service)[n]++;
                CountsOf(VersionKey(replica.Service, replica.Version))[n]++;
            }
        }

        public ServiceCandidates CandidatesFor(ServiceSpec service)
        {
            var result = new ServiceCandidates(service);
            var placement = service.Placement;
            for (var i = 0; i < _nodes.Length; i++)
            {
                var node = _nodes[i];
                if (node.Status != NodeStatus.Ready)
                {
                    result.Rejected("down");
                }
                else if (!node.Eligible)
                {
                    result.Rejected("draining or drained");
                }
                else if (placement.Node is { } pin && !string.Equals(pin, node.Name, StringComparison.Ordinal))
                {
                    result.Rejected($"not node '{pin}' (pinned)");
                }
                else if (MissingLabel(node, placement) is { } missing)
                {
                    result.Rejected($"without label {missing}");
                }
                else
                {
                    result.Nodes.Add(i);
                }
            }
            // A global service allows one replica per node of its current version; an older version's replica may
            // still run beside it during an update.
            result.Counts = CountsOf(service.Mode == ServiceMode.Global ? VersionKey(service.Name, service.Version) : service.Name);
            result.VersionCounts = service.Mode == ServiceMode.Global ? result.Counts : CountsOf(VersionKey(service.Name, service.Version));
            return result;
        }

        public PlacementDecision PlaceOne(ServiceCandidates candidates, PlacementRequest request)
        {
            var service = request.Service;
            var cpu = service.Task.Resources.Cpu ?? 0;
            var memory = service.Task.Resources.MemoryBytes ?? 0;
            var ports = service.Task.Ports.Count;
            var maxPerNode = service.Mode == ServiceMode.Global ? 1 : service.Placement.MaxPerNode ?? int.MaxValue;
            var counts = candidates.Counts!;

            var best = -1;
            var bestCount = int.MaxValue;
            var bestFill = double.MinValue;
            int noCpu = 0, noMemory = 0, noPorts = 0, full = 0, notTarget = 0;
            foreach (var n in candidates.Nodes)
            {
                if (request.TargetNode is { } target && !string.Equals(_nodes[n].Name, target, StringComparison.Ordinal))
                {
                    notTarget++;
                    continue;
                }
                if (counts[n] >= maxPerNode)
                {
                    full++;
                    continue;
                }
                if (_freeCpu[n] + 1e-9 < cpu)
                {
                    noCpu++;
                    continue;
                }
                if (_freeMemory[n] < memory)
                {
                    noMemory++;
                    continue;
                }
                if (_freePorts[n] < ports)
                {
                    noPorts++;
                    continue;
                }
                // Spread first: fewer replicas of this service wins. Then pack: the fuller node after placement wins.
                var fill = Fill(n, cpu, memory);
                if (counts[n] < bestCount || (counts[n] == bestCount && fill > bestFill))
                {
                    best = n;
                    bestCount = counts[n];
                    bestFill = fill;
                }
            }

            if (best < 0)
            {
                var reasons = new Dictionary<string, int>(candidates.Reasons, StringComparer.Ordinal);
                Add(reasons, notTarget, request.TargetNode is null ? "" : $"not node '{request.TargetNode}'");
                Add(reasons, full, service.Mode == ServiceMode.Global ? "already running it" : $"at max_per_node ({maxPerNode})");
                Add(reasons, noCpu, $"have {cpu.ToString("0.##", CultureInfo.InvariantCulture)} CPU free");
                Add(reasons, noMemory, $"have {ByteSizes.Format(memory)} memory free");
                Add(reasons, noPorts, $"have {ports} free ports");
                return new PlacementDecision.Unplaced(request.ReplicaId, service.Name, Explain(_nodes.Length, reasons));
            }

            _freeCpu[best] -= cpu;
            _freeMemory[best] -= memory;
            _freePorts[best] -= ports;
            counts[best]++;
            if (!ReferenceEquals(counts, candidates.VersionCounts))
            {
                candidates.VersionCounts![best]++;
            }
            return new PlacementDecision.Placed(request.ReplicaId, service.Name, _nodes[best].Name, -bestCount + bestFill);
        }

        private double Fill(int n, double cpu, long memory)
        {
            var node = _nodes[n];
            var cpuFill = node.CpuCores > 0 ? 1 - (_freeCpu[n] - cpu) / node.CpuCores : 0;
            var memoryFill = node.MemoryBytes > 0 ? 1 - (double)(_freeMemory[n] - memory) / node.MemoryBytes : 0;
            return (cpuFill + memoryFill) / 2;
        }

        private static string VersionKey(string service, string version) => service + "@" + version;

        private int[] CountsOf(string service)
        {
            if (!_serviceCounts.TryGetValue(service, out var counts))
            {
                counts = new int[_nodes.Length];
                _serviceCounts[service] = counts;
            }
            return counts;
        }

        internal static string? MissingLabel(Node node, PlacementSpec placement)
        {
            foreach (var (key, value) in placement.Labels)
            {
                if (!node.Labels.TryGetValue(key, out var actual) || !string.Equals(actual, value, StringComparison.Ordinal))
                {
                    return $"{key}={value}";
                }
            }
            return null;
        }

        private static void Add(Dictionary<string, int> reasons, int count, string reason)
        {
            if (count > 0)
            {
                reasons[reason] = reasons.GetValueOrDefault(reason) + count;
            }
        }

        /// <summary>"0 of 3 nodes have 512M memory free", or a breakdown when the nodes failed for different reasons.</summary>
        private static string Explain(int total, Dictionary<string, int> reasons)
        {
            if (total == 0)
            {
                return "no nodes in the cluster";
            }
            if (reasons.Count == 1)
            {
                var (reason, _) = reasons.First();
                return reason.StartsWith("have ", StringComparison.Ordinal)
                    ? $"0 of {total} {Nodes(total)} {(total == 1 ? "has " + reason[5..] : reason)}"
                    : $"0 of {total} {Nodes(total)} fit: all {reason}";
            }
            var parts = reasons.OrderByDescending(r => r.Value).ThenBy(r => r.Key, StringComparer.Ordinal)
                .Select(r => r.Key.StartsWith("have ", StringComparison.Ordinal)
                    ? $"{r.Value} do not {r.Key}"
                    : $"{r.Value} {r.Key}");
            return $"0 of {total} {Nodes(total)} fit: {string.Join(", ", parts)}";
        }

        private static string Nodes(int n) => n == 1 ? "node" : "nodes";
    }

    /// <summary>The nodes that pass a service's static checks (status, eligibility, pin, labels), computed once per service.</summary>
    private sealed class ServiceCandidates(ServiceSpec service)
    {
        public ServiceSpec Service { get; } = service;

        public List<int> Nodes { get; } = [];

        public Dictionary<string, int> Reasons { get; } = new(StringComparer.Ordinal);

        public int[]? Counts { get; set; }

        public int[]? VersionCounts { get; set; }

        public void Rejected(string reason) => Reasons[reason] = Reasons.GetValueOrDefault(reason) + 1;
    }
}
