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
        var run = 0;
        for (var i = 0; i < requests.Count; i++)
        {
            var request = requests[i];
            if (candidates is null || !ReferenceEquals(candidates.Service, request.Service))
            {
                candidates = view.CandidatesFor(request.Service);
                run = RunLength(requests, i);
            }
            decisions[i] = request.TargetNode is null && run >= RankedRun
                ? view.PlaceRanked(candidates, request)
                : view.PlaceOne(candidates, request);
        }
        return decisions;
    }

    /// <summary>
    /// Consecutive requests of one service from which keeping its nodes ranked between placements beats scanning every
    /// node per placement. Both give the same decisions.
    /// </summary>
    private const int RankedRun = 4;

    /// <summary>How many requests from <paramref name="start"/> on are for the same service object and no target node.</summary>
    private static int RunLength(IReadOnlyList<PlacementRequest> requests, int start)
    {
        var service = requests[start].Service;
        var end = start;
        while (end < requests.Count && ReferenceEquals(requests[end].Service, service) && requests[end].TargetNode is null)
        {
            end++;
        }
        return end - start;
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

            Take(candidates, best, cpu, memory, ports);
            // The ranking no longer matches this node; rebuilt if a later request of the run needs it.
            candidates.Ranking = null;
            return new PlacementDecision.Placed(request.ReplicaId, service.Name, _nodes[best].Name, -bestCount + bestFill);
        }

        /// <summary>
        /// Same decision as <see cref="PlaceOne"/> for a request without a target node, from a ranking of the feasible
        /// nodes (fewest replicas of the service, then fullest after placement, then node order) kept for the service's
        /// run of requests: a placement changes only the chosen node, so only that node is ranked again.
        /// </summary>
        public PlacementDecision PlaceRanked(ServiceCandidates candidates, PlacementRequest request)
        {
            var service = request.Service;
            var cpu = service.Task.Resources.Cpu ?? 0;
            var memory = service.Task.Resources.MemoryBytes ?? 0;
            var ports = service.Task.Ports.Count;
            var maxPerNode = service.Mode == ServiceMode.Global ? 1 : service.Placement.MaxPerNode ?? int.MaxValue;
            var counts = candidates.Counts!;
            var ranking = candidates.Ranking;
            if (ranking is null)
            {
                ranking = new PriorityQueue<int, NodeRank>(candidates.Nodes.Count, NodeRank.Order);
                foreach (var n in candidates.Nodes)
                {
                    if (Feasible(n, counts, maxPerNode, cpu, memory, ports))
                    {
                        ranking.Enqueue(n, new NodeRank(counts[n], Fill(n, cpu, memory), n));
                    }
                }
                candidates.Ranking = ranking;
            }
            if (!ranking.TryDequeue(out var best, out var rank))
            {
                // Nothing fits: the scan says why.
                return PlaceOne(candidates, request);
            }
            Take(candidates, best, cpu, memory, ports);
            if (Feasible(best, counts, maxPerNode, cpu, memory, ports))
            {
                ranking.Enqueue(best, new NodeRank(counts[best], Fill(best, cpu, memory), best));
            }
            return new PlacementDecision.Placed(request.ReplicaId, service.Name, _nodes[best].Name, -rank.Count + rank.Fill);
        }

        /// <summary>The dynamic checks of <see cref="PlaceOne"/>, without counting reasons.</summary>
        private bool Feasible(int n, int[] counts, int maxPerNode, double cpu, long memory, int ports) =>
            counts[n] < maxPerNode && _freeCpu[n] + 1e-9 >= cpu && _freeMemory[n] >= memory && _freePorts[n] >= ports;

        private void Take(ServiceCandidates candidates, int n, double cpu, long memory, int ports)
        {
            _freeCpu[n] -= cpu;
            _freeMemory[n] -= memory;
            _freePorts[n] -= ports;
            candidates.Counts![n]++;
            if (!ReferenceEquals(candidates.Counts, candidates.VersionCounts))
            {
                candidates.VersionCounts![n]++;
            }
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

        /// <summary>The feasible nodes ranked for <see cref="ClusterView.PlaceRanked"/>, or null until needed (or after a scan placement).</summary>
        public PriorityQueue<int, NodeRank>? Ranking { get; set; }

        public void Rejected(string reason) => Reasons[reason] = Reasons.GetValueOrDefault(reason) + 1;
    }

    /// <summary>A node's place in a service's ranking: fewer replicas of the service first, then fuller, then earlier.</summary>
    private readonly record struct NodeRank(int Count, double Fill, int Index)
    {
        public static IComparer<NodeRank> Order { get; } = Comparer<NodeRank>.Create(static (a, b) =>
            a.Count != b.Count ? a.Count.CompareTo(b.Count)
            : a.Fill != b.Fill ? b.Fill.CompareTo(a.Fill)
            : a.Index.CompareTo(b.Index));
    }
}
