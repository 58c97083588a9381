using Corral.Core.Cluster;
using Corral.Core.Reconciliation;
using Corral.Core.Scheduling;
using Corral.Core.Services;
using Corral.Core.Tasks;

namespace Corral.Core.Tests.Reconciliation;

/// <summary>
/// Runs the reconciler in a loop against a simulated cluster: plans are applied (created replicas placed, stopped
/// ones removed), and the test decides when replicas become healthy.
/// </summary>
public class ReconcilerTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly List<Node> _nodes = [];
    private readonly List<Replica> _replicas = [];
    private readonly List<ServiceSpec> _services = [];
    private int _ids;
    private long _revision;

    private ReconcilePlan Step(DateTimeOffset? now = null)
    {
        var plan = Reconciler.Plan(new ReconcileInput(_services, _replicas, _nodes, now ?? T0), s => $"{s.Name}-{++_ids}");
        foreach (var lost in plan.Lost)
        {
            _replicas.RemoveAll(r => r.Id == lost.ReplicaId);
        }
        foreach (var s in plan.Stop)
        {
            _replicas.RemoveAll(r => r.Id == s.ReplicaId);
        }
        foreach (var created in plan.Create)
        {
            _replicas.Add(created with { CreatedRevision = ++_revision });
        }
        foreach (var decision in plan.Placements)
        {
            var i = _replicas.FindIndex(r => r.Id == decision.ReplicaId);
            _replicas[i] = decision switch
            {
                PlacementDecision.Placed p => _replicas[i] with { Node = p.Node, Phase = ReplicaPhase.Assigned, State = ReplicaState.Starting },
                PlacementDecision.Unplaced u => _replicas[i] with { Reason = u.Reason },
                _ => _replicas[i],
            };
        }
        return plan;
    }

    private void AllHealthy()
    {
        for (var i = 0; i < _replicas.Count; i++)
        {
            if (_replicas[i].Phase == ReplicaPhase.Assigned)
            {
                _replicas[i] = _replicas[i] with { State = ReplicaState.Healthy };
            }
        }
    }

    private void OneHealthy()
    {
        var i = _replicas.FindIndex(r => r.Phase == ReplicaPhase.Assigned && r.State != ReplicaState.Healthy);
        _replicas[i] = _replicas[i] with { State = ReplicaState.Healthy };
    }

    private void Nodes(int count)
    {
        for (var i = 0; i < count; i++)
        {
            _nodes.Add(new Node { Name = $"n{_nodes.Count + 1}", CpuCores = 4, MemoryBytes = 8L << 30 });
        }
    }

    private static ServiceSpec Service(string name, int replicas, string command = "/bin/true", ServiceMode mode = ServiceMode.Replicated) => new()
    {
        Name = name,
        Stack = "s",
        Replicas = replicas,
        Mode = mode,
        Task = new TaskSpec { Command = command },
    };

    private int Healthy(string service) => _replicas.Count(r => r.Service == service && r.Healthy);

    [Fact]
    public void Plan_NewService_CreatesAndPlacesEveryReplica()
    {
        Nodes(3);
        _services.Add(Service("web", 3));

        var plan = Step();

        Assert.Equal(3, plan.Create.Count);
        Assert.All(plan.Placements, p => Assert.IsType<PlacementDecision.Placed>(p));
        Assert.Equal(3, _replicas.Select(r => r.Node).Distinct().Count());
        AllHealthy();
        Assert.True(Step().IsEmpty);
    }

    [Fact]
    public void Plan_Scale3To5To1_StopsNewestFirst()
    {
        Nodes(3);
        _services.Add(Service("web", 3));
        Step();
        AllHealthy();

        _services[0] = _services[0] with { Replicas = 5 };
        Assert.Equal(2, Step().Create.Count);
        var newest = _replicas.OrderByDescending(r => r.CreatedRevision).Take(2).Select(r => r.Id).ToHashSet();
        AllHealthy();

        _services[0] = _services[0] with { Replicas = 1 };
        var plan = Step();

        Assert.Equal(4, plan.Stop.Count);
        Assert.Subset(plan.Stop.Select(s => s.ReplicaId).ToHashSet(), newest);
        Assert.Equal("web-1", Assert.Single(_replicas).Id);
        Assert.All(plan.Stop, s => Assert.Equal("scaled down to 1", s.Reason));
    }

    [Fact]
    public void Plan_ScaleDown_StopsPendingAndUnhealthyBeforeHealthy()
    {
        Nodes(1);
        _services.Add(Service("web", 2));
        Step();
        OneHealthy();

        _services[0] = _services[0] with { Replicas = 1 };
        var plan = Step();

        Assert.Single(plan.Stop);
        Assert.True(Assert.Single(_replicas).Healthy);
    }

    [Fact]
    public void Plan_NewVersion_ReplacesOneAtATime_NeverBelowDesiredMinusOne()
    {
        Nodes(3);
        _services.Add(Service("web", 3));
        Step();
        AllHealthy();
        var v2 = _services[0] with { Task = _services[0].Task with { Command = "/bin/v2" } };
        _services[0] = v2;

        var steps = 0;
        while (_replicas.Any(r => r.Version != v2.Version) && steps++ < 20)
        {
            var plan = Step();
            Assert.True(plan.Create.Count <= 1, "more than one replacement started at once");
            Assert.True(plan.Stop.Count <= 1, "more than one old replica stopped at once");
            Assert.True(Healthy("web") >= 2, $"healthy dropped to {Healthy("web")}");
            Assert.True(_replicas.Count(r => r.Service == "web") <= 4, "surge above one");
            if (_replicas.Any(r => r.Phase == ReplicaPhase.Assigned && !r.Healthy))
            {
                // Until the new replica is healthy, the reconciler must wait.
                Assert.True(Step().IsEmpty);
                OneHealthy();
            }
        }

        Step();
        Assert.Equal(3, _replicas.Count(r => r.Version == v2.Version));
        Assert.Equal(3, _replicas.Count);
    }

    [Fact]
    public void Plan_RemovedService_StopsItsReplicas()
    {
        Nodes(2);
        _services.Add(Service("web", 2));
        Step();
        _services.Clear();

        var plan = Step();

        Assert.Equal(2, plan.Stop.Count);
        Assert.All(plan.Stop, s => Assert.Equal("service removed", s.Reason));
    }

    [Fact]
    public void Plan_NodeDownShorterThanEviction_KeepsReplicas()
    {
        Nodes(2);
        _services.Add(Service("web", 2));
        Step();
        AllHealthy();
        _nodes[0] = _nodes[0] with { Status = NodeStatus.Down, StatusSince = T0 };

        Assert.True(Step(T0 + TimeSpan.FromSeconds(29)).IsEmpty);
    }

    [Fact]
    public void Plan_NodeDownPastEviction_LosesAndReplacesElsewhere()
    {
        Nodes(3);
        _services.Add(Service("web", 2));
        Step();
        AllHealthy();
        var downNode = _replicas[0].Node!;
        var i = _nodes.FindIndex(n => n.Name == downNode);
        _nodes[i] = _nodes[i] with { Status = NodeStatus.Down, StatusSince = T0 };

        var plan = Step(T0 + TimeSpan.FromSeconds(30));

        var lost = Assert.Single(plan.Lost);
        Assert.Equal(downNode, lost.Node);
        Assert.Contains("eviction_timeout 30s", lost.Reason, StringComparison.Ordinal);
        Assert.NotEqual(downNode, Assert.IsType<PlacementDecision.Placed>(Assert.Single(plan.Placements)).Node);
    }

    [Fact]
    public void Plan_Drain_MovesReplicasOneAtATimeHealthyFirst()
    {
        Nodes(3);
        _services.Add(Service("web", 3));
        Step();
        AllHealthy();
        _nodes[0] = _nodes[0] with { Eligible = false, Draining = true };

        var guard = 0;
        while (_replicas.Any(r => r.Node == "n1") && guard++ < 10)
        {
            var plan = Step();
            Assert.True(Healthy("web") >= 2);
            Assert.All(plan.Placements, p => Assert.NotEqual("n1", Assert.IsType<PlacementDecision.Placed>(p).Node));
            AllHealthy();
        }

        Step();
        Assert.DoesNotContain(_replicas, r => r.Node == "n1");
        Assert.Equal(3, Healthy("web"));
    }

    [Fact]
    public void Plan_Unplaceable_StaysPendingWithReasonAndPlacesWhenCapacityAppears()
    {
        _services.Add(Service("web", 1) with { Task = new TaskSpec { Command = "x", Resources = new ResourceLimits(16L << 30, null) } });
        Nodes(1);

        Step();

        var pending = Assert.Single(_replicas);
        Assert.Equal(ReplicaPhase.Pending, pending.Phase);
        Assert.Equal("0 of 1 node has 16G memory free", pending.Reason);

        _nodes.Add(new Node { Name = "big", CpuCores = 8, MemoryBytes = 32L << 30 });
        var plan = Step();

        Assert.Empty(plan.Create);
        Assert.Equal("big", Assert.IsType<PlacementDecision.Placed>(Assert.Single(plan.Placements)).Node);
    }

    [Fact]
    public void Plan_GlobalService_OnePerNode_FollowsNodes()
    {
        Nodes(2);
        _services.Add(Service("agentd", 0, mode: ServiceMode.Global));

        Step();
        Assert.Equal(["n1", "n2"], _replicas.Select(r => r.Node).Order());
        AllHealthy();

        Nodes(1);
        Assert.Equal("n3", Assert.IsType<PlacementDecision.Placed>(Assert.Single(Step().Placements)).Node);
        AllHealthy();

        _nodes[0] = _nodes[0] with { Eligible = false };
        var plan = Step();
        Assert.Equal("node n1 drained", Assert.Single(plan.Stop).Reason);
    }

    [Fact]
    public void Plan_GlobalNewVersion_OneNodeAtATime()
    {
        Nodes(3);
        _services.Add(Service("agentd", 0, mode: ServiceMode.Global));
        Step();
        AllHealthy();
        _services[0] = _services[0] with { Task = new TaskSpec { Command = "/bin/v2" } };

        var plan = Step();
        Assert.Single(plan.Create);
        Assert.Empty(plan.Stop);
        Assert.True(Step().IsEmpty);

        AllHealthy();
        plan = Step();
        Assert.Single(plan.Stop);
        Assert.Single(plan.Create);
    }

    [Fact]
    public void Plan_IsPure_SameInputSamePlan()
    {
        Nodes(3);
        _services.Add(Service("web", 4));
        var input = new ReconcileInput(_services, _replicas, _nodes, T0);
        var a = 0;
        var b = 0;

        var first = Reconciler.Plan(input, s => $"{s.Name}-{++a}");
        var second = Reconciler.Plan(input, s => $"{s.Name}-{++b}");

        Assert.Equal(first.Create, second.Create);
        Assert.Equal(first.Placements, second.Placements);
    }
}
