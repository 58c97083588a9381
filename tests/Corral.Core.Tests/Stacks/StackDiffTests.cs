using Corral.Core.Api;
using Corral.Core.Services;
using Corral.Core.Stacks;

namespace Corral.Core.Tests.Stacks;

public class StackDiffTests
{
    private static StackSpec Parse(string yaml) => StackParser.Parse(yaml, "s.yaml").Stack ?? throw new InvalidOperationException("bad test stack");

    private const string Two = """
        stack: shop
        services:
          web: { command: web, replicas: 2 }
          worker: { command: worker }
        """;

    [Fact]
    public void Compute_EmptyCluster_CreatesEverything()
    {
        var diff = StackDiff.Compute(Parse(Two), [], prune: false);

        Assert.Equal([ServiceChangeKind.Create, ServiceChangeKind.Create], diff.Changes.Select(c => c.Kind));
        Assert.True(diff.Changed);
    }

    [Fact]
    public void Compute_SameFileTwice_ChangesNothing()
    {
        var stack = Parse(Two);

        var diff = StackDiff.Compute(stack, stack.Services.ToList(), prune: false);

        Assert.False(diff.Changed);
        Assert.All(diff.Changes, c => Assert.Equal(ServiceChangeKind.Unchanged, c.Kind));
    }

    [Fact]
    public void Compute_ReplicasOnly_IsAScale_CommandIsAnUpdate()
    {
        var current = Parse(Two).Services.ToList();

        var diff = StackDiff.Compute(Parse(Two.Replace("replicas: 2", "replicas: 4", StringComparison.Ordinal).Replace("command: worker", "command: worker2", StringComparison.Ordinal)), current, prune: false);

        Assert.Equal(ServiceChangeKind.Scale, diff.Changes[0].Kind);
        Assert.Equal("replicas 2 → 4", diff.Changes[0].Detail);
        Assert.Equal(ServiceChangeKind.Update, diff.Changes[1].Kind);
    }

    [Fact]
    public void Compute_RestartedService_IsNotAnUpdate()
    {
        var current = Parse(Two).Services.Select(s => s with { Restarts = 3 }).ToList();

        Assert.False(StackDiff.Compute(Parse(Two), current, prune: false).Changed);
    }

    [Fact]
    public void Compute_ServiceRemovedFromFile_KeptUnlessPrune()
    {
        var current = Parse(Two).Services.ToList();
        var one = Parse("stack: shop\nservices:\n  web: { command: web, replicas: 2 }\n");

        Assert.Equal(ServiceChangeKind.KeptNotInFile, StackDiff.Compute(one, current, prune: false).Changes[1].Kind);
        Assert.False(StackDiff.Compute(one, current, prune: false).Changed);
        Assert.Equal(ServiceChangeKind.Remove, StackDiff.Compute(one, current, prune: true).Changes[1].Kind);
    }

    [Fact]
    public void Compute_NameOwnedByAnotherStack_IsAConflict()
    {
        var other = Parse("stack: other\nservices:\n  web: { command: x }\n").Services.ToList();

        var diff = StackDiff.Compute(Parse(Two), other, prune: true);

        Assert.Equal("service 'web' already belongs to stack 'other'", Assert.Single(diff.Conflicts));
    }
}
