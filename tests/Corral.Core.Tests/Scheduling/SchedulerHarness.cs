using Corral.Core.Cluster;
using Corral.Core.Scheduling;
using Corral.Core.Services;
using Corral.Core.Tasks;

namespace Corral.Core.Tests.Scheduling;

/// <summary>
/// Drives the scheduler like the reconciler does and records every plan, applying placements to its own view so
/// later passes see them (after nomad's scheduler/tests Harness).
/// </summary>
internal sealed class SchedulerHarness
{
    private int _nextId;
    private long _revision = 100;

    public List<Node> Nodes { get; } = [];

    public List<Replica> Replicas { get; } = [];

    public List<IReadOnlyList<PlacementDecision>> Plans { get; } = [];

    public SchedulerHarness AddNodes(int count, double cpu = 4, string memory = "8G", Func<int, Node, Node>? customize = null)
    {
        ByteSizes.TryParse(memory, out var bytes, out _);
        for (var i = 0; i < count; i++)
        {
            var node = new Node { Name = $"n{Nodes.Count + 1}", CpuCores = cpu, MemoryBytes = bytes };
            Nodes.Add(customize is null ? node : customize(i, node));
        }
        return this;
    }

    public IReadOnlyList<PlacementDecision> Schedule(ServiceSpec service, int count)
    {
        var requests = Enumerable.Range(0, count).Select(_ => new PlacementRequest(service, $"{service.Name}-{++_nextId}")).ToList();
        return Run(requests);
    }

    public IReadOnlyList<PlacementDecision> ScheduleGlobal(ServiceSpec service) =>
        Run(Nodes.Select(n => new PlacementRequest(service, $"{service.Name}-{++_nextId}", n.Name)).ToList());

    public IReadOnlyList<PlacementDecision> Run(IReadOnlyList<PlacementRequest> requests)
    {
        var plan = Scheduler.Place(Nodes, Replicas, requests);
        Plans.Add(plan);
        foreach (var decision in plan.OfType<PlacementDecision.Placed>())
        {
            var service = requests.First(r => r.ReplicaId == decision.ReplicaId).Service;
            Replicas.Add(new Replica
            {
                Id = decision.ReplicaId,
                Service = service.Name,
                Version = service.Version,
                Node = decision.Node,
                Phase = ReplicaPhase.Assigned,
                CreatedRevision = ++_revision,
                CpuCores = service.Task.Resources.Cpu ?? 0,
                MemoryBytes = service.Task.Resources.MemoryBytes ?? 0,
                PortCount = service.Task.Ports.Count,
            });
        }
        return plan;
    }

    public Dictionary<string, int> CountsByNode(string service) =>
        Replicas.Where(r => r.Service == service && r.Active).GroupBy(r => r.Node!).ToDictionary(g => g.Key, g => g.Count());

    public static ServiceSpec Service(string name, double? cpu = null, string? memory = null, PlacementSpec? placement = null, ServiceMode mode = ServiceMode.Replicated, int ports = 0)
    {
        long? bytes = null;
        if (memory is not null && ByteSizes.TryParse(memory, out var b, out _))
        {
            bytes = b;
        }
        return new ServiceSpec
        {
            Name = name,
            Stack = "test",
            Mode = mode,
            Placement = placement ?? PlacementSpec.Anywhere,
            Task = new TaskSpec
            {
                Command = "/bin/true",
                Resources = new ResourceLimits(bytes, cpu),
                Ports = Enumerable.Range(0, ports).Select(i => $"p{i}").ToList(),
            },
        };
    }
}
