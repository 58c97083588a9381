using Corral.Core.Cluster;

namespace Corral.IntegrationTests;

public sealed partial class DevClusterTests
{
    [Fact]
    public async Task Scale_ThreeToFiveToOne_CountsFollowAndNewestStopFirst()
    {
        await Client.DeployAsync(Stacks.Request(Stacks.Stack("it-scale", Stacks.Web("scale-web", 3))), Ct);
        var three = await WaitAllHealthyAsync("scale-web", 3);

        var up = await Client.ScaleAsync("scale-web", 5, Ct);

        Assert.Equal(5, up.Desired);
        Assert.Equal(three.Version, up.Version);
        var five = await WaitAllHealthyAsync("scale-web", 5);
        Assert.Subset(five.Replicas.Select(r => r.Replica.Id).ToHashSet(), three.Replicas.Select(r => r.Replica.Id).ToHashSet());
        Assert.Equal(5, five.Replicas.Select(r => r.Pid).Distinct().Count());
        var original = three.Replicas.Select(r => r.Replica.Id).ToHashSet();
        var added = five.Replicas.Where(r => !original.Contains(r.Replica.Id)).ToList();
        // Replicas placed in one reconcile pass share a creation revision; the two added later are newer.
        Assert.All(added, a => Assert.True(three.Replicas.All(o => o.Replica.CreatedRevision < a.Replica.CreatedRevision), $"{a.Replica.Id} is newer than the first three"));

        var down = await Client.ScaleAsync("scale-web", 1, Ct);

        Assert.Equal(1, down.Desired);
        // Newest first: while four stop, none of the three original replicas stops before both added ones did.
        var one = await WaitServiceAsync("scale-web", s =>
        {
            var addedLeft = s.Replicas.Count(r => !original.Contains(r.Replica.Id) && r.Replica.Phase == ReplicaPhase.Assigned);
            var originalStopping = s.Replicas.Count(r => original.Contains(r.Replica.Id) && r.Replica.Phase != ReplicaPhase.Assigned);
            Assert.False(addedLeft > 0 && originalStopping > 0, "an original replica stops while a newer one still runs:\n" + Describe(s));
            return s.Replicas.Count == 1 && s.Healthy == 1;
        }, "one healthy replica left");
        var survivor = Assert.Single(one.Replicas);
        Assert.Contains(survivor.Replica.Id, original);
        Assert.Equal(three.Replicas.Single(r => r.Replica.Id == survivor.Replica.Id).Pid, survivor.Pid);
        foreach (var stopped in five.Replicas.Where(r => r.Replica.Id != survivor.Replica.Id))
        {
            await WaitDeadAsync(stopped.Pid!.Value, $"scaled-down replica {stopped.Replica.Id}'s process {stopped.Pid} to end");
        }

        await RemoveQuietlyAsync("scale-web");
    }
}
