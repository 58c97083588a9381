using Corral.Core.Cluster;
using Corral.Core.Reconciliation;
using Corral.Core.Services;
using Corral.Core.Tasks;

namespace Corral.Core.Tests.Reconciliation;

/// <summary>A singleton (<c>replicas: 1</c>) is stopped before its replacement is created, never beside it.</summary>
public sealed class SingletonReconcilerTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly ServiceSpec V1 = new() { Name = "locker", Stack = "s", Replicas = 1, Task = new TaskSpec { Command = "/bin/v1" }, EvictionTimeout = TimeSpan.FromSeconds(30) };

    private static readonly ServiceSpec V2 = V1 with { Task = new TaskSpec { Command = "/bin/v2" } };

    private static readonly Node A = new() { Name = "a", CpuCores = 4, MemoryBytes = 8L << 30, StatusSince = Now };

    private static readonly Node B = new() { Name = "b", CpuCores = 4, MemoryBytes = 8L << 30, StatusSince = Now };

    private static int _ids;

    private static ReconcilePlan Plan(ServiceSpec service, IReadOnlyList<Replica> replicas, params Node[] nodes) =>
        Reconciler.Plan(new ReconcileInput([service], replicas, nodes, Now), s => $"{s.Name}-{Interlocked.Increment(ref _ids)}");

    private static Replica Running(ServiceSpec service, string node, ReplicaPhase phase = ReplicaPhase.Assigned) =>
        new() { Id = "locker-old", Service = service.Name, Version = service.Version, Node = node, Phase = phase, State = ReplicaState.Healthy, CreatedRevision = 1 };

    [Fact]
    public void Plan_NewVersion_StopsTheOldOneFirstAndCreatesNothing()
    {
        var plan = Plan(V2, [Running(V1, "a")], A, B);

        var stop = Assert.Single(plan.Stop);
        Assert.Equal("locker-old", stop.ReplicaId);
        Assert.Contains("a singleton stops before its replacement starts", stop.Reason, StringComparison.Ordinal);
        Assert.Empty(plan.Create);
    }

    [Fact]
    public void Plan_OldOneStillStopping_CreatesNothing_ThenCreatesOnceItIsGone()
    {
        Assert.Empty(Plan(V2, [Running(V1, "a", ReplicaPhase.Stopping)], A, B).Create);

        var plan = Plan(V2, [], A, B);

        var created = Assert.Single(plan.Create);
        Assert.Equal(V2.Version, created.Version);
    }

    [Fact]
    public void Plan_OnDrainingNode_StopsFirstInsteadOfSurging()
    {
        var plan = Plan(V1, [Running(V1, "a")], A with { Draining = true, Eligible = false }, B);

        Assert.Equal("locker-old", Assert.Single(plan.Stop).ReplicaId);
        Assert.Empty(plan.Create);
    }

    [Fact]
    public void Plan_StoppingOnANodeDownPastEviction_NoLongerBlocksTheReplacement()
    {
        var down = A with { Status = NodeStatus.Down, StatusSince = Now - TimeSpan.FromSeconds(10) };
        Assert.Empty(Plan(V2, [Running(V1, "a", ReplicaPhase.Stopping)], down, B).Create);

        var evicted = A with { Status = NodeStatus.Down, StatusSince = Now - TimeSpan.FromSeconds(30) };
        Assert.Single(Plan(V2, [Running(V1, "a", ReplicaPhase.Stopping)], evicted, B).Create);
    }

    [Fact]
    public void Plan_NodeDownBeforeEviction_KeepsTheSingletonAndCreatesNothing()
    {
        var down = A with { Status = NodeStatus.Down, StatusSince = Now - TimeSpan.FromSeconds(29) };
        var plan = Plan(V1, [Running(V1, "a")], down, B);

        Assert.Empty(plan.Create);
        Assert.Empty(plan.Stop);
        Assert.Empty(plan.Lost);
    }

    [Fact]
    public void Plan_NodeDownPastEviction_LostAndReplaced()
    {
        var down = A with { Status = NodeStatus.Down, StatusSince = Now - TimeSpan.FromSeconds(30) };
        var plan = Plan(V1, [Running(V1, "a")], down, B);

        Assert.Equal("locker-old", Assert.Single(plan.Lost).ReplicaId);
        Assert.Single(plan.Create);
    }
}
