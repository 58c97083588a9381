using Corral.Core.Cluster;
using Corral.Core.Scheduling;
using Corral.Core.Services;

namespace Corral.Core.Tests.Scheduling;

public class SchedulerTests
{
    [Fact]
    public void Place_ThreeReplicasOnThreeNodes_SpreadsOnePerNode()
    {
        var h = new SchedulerHarness().AddNodes(3);

        var plan = h.Schedule(SchedulerHarness.Service("web"), 3);

        Assert.All(plan, d => Assert.IsType<PlacementDecision.Placed>(d));
        Assert.Equal([1, 1, 1], h.CountsByNode("web").Values);
    }

    [Fact]
    public void Place_SevenReplicasOnThreeNodes_DiffersByAtMostOne()
    {
        var h = new SchedulerHarness().AddNodes(3);

        h.Schedule(SchedulerHarness.Service("web"), 7);

        var counts = h.CountsByNode("web").Values.Order().ToList();
        Assert.Equal([2, 2, 3], counts);
    }

    [Fact]
    public void Place_SpreadAcrossPasses_AddsToTheEmptiestNode()
    {
        var h = new SchedulerHarness().AddNodes(3);
        var web = SchedulerHarness.Service("web");
        h.Schedule(web, 2);

        var plan = h.Schedule(web, 1);

        var placed = Assert.IsType<PlacementDecision.Placed>(Assert.Single(plan));
        Assert.Equal(1, h.CountsByNode("web")[placed.Node]);
    }

    [Fact]
    public void Place_OtherServicesOnly_PacksOntoTheFullerNode()
    {
        // n1 already runs a big replica of another service; a new service with no replicas yet
        // spreads equally (0 everywhere), so packing decides: the fuller node wins.
        var h = new SchedulerHarness().AddNodes(2);
        h.Schedule(SchedulerHarness.Service("db", cpu: 2, memory: "4G"), 1);
        var dbNode = h.Replicas.Single().Node;

        var plan = h.Schedule(SchedulerHarness.Service("cache", cpu: 0.5, memory: "512M"), 1);

        Assert.Equal(dbNode, Assert.IsType<PlacementDecision.Placed>(Assert.Single(plan)).Node);
    }

    [Fact]
    public void Place_PinnedService_GoesOnlyToItsNode()
    {
        var h = new SchedulerHarness().AddNodes(3);

        h.Schedule(SchedulerHarness.Service("locker", placement: new PlacementSpec { Node = "n2" }), 2);

        Assert.Equal(new Dictionary<string, int> { ["n2"] = 2 }, h.CountsByNode("locker"));
    }

    [Fact]
    public void Place_PinnedToDownNode_IsUnplacedWithReason()
    {
        var h = new SchedulerHarness().AddNodes(3, customize: (i, n) => i == 1 ? n with { Status = NodeStatus.Down } : n);

        var plan = h.Schedule(SchedulerHarness.Service("locker", placement: new PlacementSpec { Node = "n2" }), 1);

        var unplaced = Assert.IsType<PlacementDecision.Unplaced>(Assert.Single(plan));
        Assert.Equal("0 of 3 nodes fit: 2 not node 'n2' (pinned), 1 down", unplaced.Reason);
    }

    [Fact]
    public void Place_LabelConstraint_OnlyMatchingNodes()
    {
        var h = new SchedulerHarness().AddNodes(4, customize: (i, n) => n with
        {
            Labels = new SortedDictionary<string, string> { ["zone"] = i < 2 ? "a" : "b" },
        });
        var placement = new PlacementSpec { Labels = new SortedDictionary<string, string> { ["zone"] = "b" } };

        h.Schedule(SchedulerHarness.Service("web", placement: placement), 4);

        Assert.Equal(["n3", "n4"], h.CountsByNode("web").Keys.Order());
    }

    [Fact]
    public void Place_NotEnoughMemoryAnywhere_SaysHowManyNodesHaveIt()
    {
        var h = new SchedulerHarness().AddNodes(3, memory: "256M");

        var plan = h.Schedule(SchedulerHarness.Service("big", memory: "512M"), 1);

        Assert.Equal("0 of 3 nodes have 512M memory free", Assert.IsType<PlacementDecision.Unplaced>(Assert.Single(plan)).Reason);
    }

    [Fact]
    public void Place_ResourcesRunOut_MidPlan_NeverOvercommits()
    {
        var h = new SchedulerHarness().AddNodes(2, cpu: 1, memory: "1G");

        var plan = h.Schedule(SchedulerHarness.Service("w", cpu: 0.5, memory: "256M"), 5);

        Assert.Equal(4, plan.Count(d => d is PlacementDecision.Placed));
        Assert.Equal("0 of 2 nodes have 0.5 CPU free", Assert.IsType<PlacementDecision.Unplaced>(plan[4]).Reason);
    }

    [Fact]
    public void Place_MaxPerNode_LimitsAndExplains()
    {
        var h = new SchedulerHarness().AddNodes(2);

        var plan = h.Schedule(SchedulerHarness.Service("w", placement: new PlacementSpec { MaxPerNode = 1 }), 3);

        Assert.Equal("0 of 2 nodes fit: all at max_per_node (1)", Assert.IsType<PlacementDecision.Unplaced>(plan[2]).Reason);
    }

    [Fact]
    public void Place_GlobalService_OnePerSchedulableNode()
    {
        var h = new SchedulerHarness().AddNodes(4, customize: (i, n) => i == 3 ? n with { Eligible = false } : n);

        var plan = h.ScheduleGlobal(SchedulerHarness.Service("agentd", mode: ServiceMode.Global));

        Assert.Equal(3, plan.Count(d => d is PlacementDecision.Placed));
        Assert.Contains("draining or drained", Assert.IsType<PlacementDecision.Unplaced>(plan[3]).Reason, StringComparison.Ordinal);
        Assert.Equal(["n1", "n2", "n3"], h.CountsByNode("agentd").Keys.Order());
    }

    [Fact]
    public void Place_GlobalServiceTwice_DoesNotDoubleUp()
    {
        var h = new SchedulerHarness().AddNodes(2);
        var agentd = SchedulerHarness.Service("agentd", mode: ServiceMode.Global);
        h.ScheduleGlobal(agentd);

        var again = h.ScheduleGlobal(agentd);

        Assert.All(again, d => Assert.Contains("already running it", Assert.IsType<PlacementDecision.Unplaced>(d).Reason, StringComparison.Ordinal));
    }

    [Fact]
    public void Place_CapacityAppears_PendingReplicaIsPlaced()
    {
        var h = new SchedulerHarness().AddNodes(1, memory: "256M");
        var big = SchedulerHarness.Service("big", memory: "512M");
        Assert.IsType<PlacementDecision.Unplaced>(Assert.Single(h.Schedule(big, 1)));

        h.AddNodes(1, memory: "1G");

        Assert.Equal("n2", Assert.IsType<PlacementDecision.Placed>(Assert.Single(h.Schedule(big, 1))).Node);
    }

    [Fact]
    public void Place_PortsExhausted_IsUnplaced()
    {
        var h = new SchedulerHarness().AddNodes(1, customize: (_, n) => n with { PortCapacity = 3 });

        var plan = h.Schedule(SchedulerHarness.Service("w", ports: 2), 2);

        Assert.Equal("0 of 1 node has 2 free ports", Assert.IsType<PlacementDecision.Unplaced>(plan[1]).Reason);
    }

    [Fact]
    public void Place_NoNodes_SaysSo() =>
        Assert.Equal("no nodes in the cluster", Assert.IsType<PlacementDecision.Unplaced>(Assert.Single(new SchedulerHarness().Schedule(SchedulerHarness.Service("w"), 1))).Reason);

    [Fact]
    public void Place_IsDeterministic()
    {
        var a = new SchedulerHarness().AddNodes(5);
        var b = new SchedulerHarness().AddNodes(5);
        var web = SchedulerHarness.Service("web", cpu: 0.25);

        Assert.Equal(a.Schedule(web, 13), b.Schedule(web, 13));
    }

    [Fact]
    public void Place_LongRunsOfOneService_SameDecisionsAsOneRequestAtATime()
    {
        // A run of requests of one service is placed from a ranking kept between placements; one request at a time is
        // placed by scanning every node. Both must choose the same nodes, in the same order, with the same reasons.
        static SchedulerHarness Cluster() => new SchedulerHarness().AddNodes(12, customize: (i, node) => node with
        {
            CpuCores = 2 + i % 3,
            MemoryBytes = (4L + i % 4) << 30,
            Labels = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["zone"] = i % 2 == 0 ? "a" : "b" },
            Status = i == 5 ? NodeStatus.Down : NodeStatus.Ready,
            Eligible = i != 7,
            PortCapacity = 40,
        });
        ServiceSpec[] services =
        [
            SchedulerHarness.Service("big", cpu: 1, memory: "2G"),
            SchedulerHarness.Service("small", cpu: 0.25, memory: "256M", ports: 1),
            SchedulerHarness.Service("zoned", cpu: 0.5, memory: "512M", placement: new PlacementSpec
            {
                Labels = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["zone"] = "a" },
                MaxPerNode = 2,
            }),
            SchedulerHarness.Service("capped", cpu: 0.1, placement: new PlacementSpec { MaxPerNode = 1 }),
            SchedulerHarness.Service("rest", cpu: 0.3, memory: "1G"),
        ];
        int[] counts = [9, 30, 14, 13, 40];
        var ranked = Cluster();
        var oneByOne = Cluster();

        var rankedPlans = services.Select((service, i) => ranked.Schedule(service, counts[i])).SelectMany(p => p).ToList();
        var oneByOnePlans = services.Select((service, i) => Enumerable.Range(0, counts[i]).SelectMany(_ => oneByOne.Schedule(service, 1)).ToList()).SelectMany(p => p).ToList();

        Assert.Equal(oneByOnePlans, rankedPlans);
        Assert.Contains(rankedPlans, d => d is PlacementDecision.Unplaced);
        Assert.True(rankedPlans.Count(d => d is PlacementDecision.Placed) > 60);
    }
}
