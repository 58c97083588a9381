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
        var byAge = five.Replicas.OrderBy(r => r.Replica.CreatedRevision).ToList();
        Assert.Equal(5, byAge.Select(r => r.Replica.CreatedRevision).Distinct().Count());

        var down = await Client.ScaleAsync("scale-web", 1, Ct);

        Assert.Equal(1, down.Desired);
        // While the four stop, the oldest is never among the stopping ones; at the end it is the one left.
        var one = await WaitServiceAsync("scale-web", s =>
        {
            Assert.DoesNotContain(s.Replicas, r => r.Replica.Id == byAge[0].Replica.Id && r.Replica.Phase != ReplicaPhase.Assigned);
            return s.Replicas.Count == 1 && s.Healthy == 1;
        }, "one healthy replica left");
        Assert.Equal(byAge[0].Replica.Id, one.Replicas[0].Replica.Id);
        Assert.Equal(byAge[0].Pid, one.Replicas[0].Pid);
        foreach (var stopped in byAge.Skip(1))
        {
            await WaitDeadAsync(stopped.Pid!.Value, $"scaled-down replica {stopped.Replica.Id}'s process {stopped.Pid} to end");
        }

        await RemoveQuietlyAsync("scale-web");
    }
}
