using System.Net;
using Corral.Client;

namespace Corral.IntegrationTests;

public sealed partial class DevClusterTests
{
    [Fact]
    public async Task Mutations_EachRepeated_SameStateAndNoSecondEvent()
    {
        var yaml = Stacks.Stack("it-idem", Stacks.Worker("idem-worker", 1));

        var deployed = await Client.DeployAsync(Stacks.Request(yaml), Ct);
        var afterDeploy = await Client.GetStatusAsync(Ct);
        var redeployed = await Client.DeployAsync(Stacks.Request(yaml), Ct);

        Assert.True(deployed.Changed);
        Assert.False(redeployed.Changed);
        Assert.Equal(deployed.Stack, redeployed.Stack);
        Assert.Equal(deployed.Changes.Select(c => c.Service), redeployed.Changes.Select(c => c.Service));
        Assert.Empty(await KeyEventsAfterAsync(afterDeploy.Revision, "idem-worker"));

        var scaled = await Client.ScaleAsync("idem-worker", 2, Ct);
        var afterScale = await Client.GetStatusAsync(Ct);
        var rescaled = await Client.ScaleAsync("idem-worker", 2, Ct);

        Assert.Equal((2, scaled.Version), (rescaled.Desired, rescaled.Version));
        Assert.Equal(scaled.Spec, rescaled.Spec);
        Assert.Empty(await KeyEventsAfterAsync(afterScale.Revision, "idem-worker"));
        var running = await WaitAllRunningAsync("idem-worker", 2);
        Assert.Equal(running.Replicas.Select(r => r.Replica.Id).Order(), (await Client.ScaleAsync("idem-worker", 2, Ct)).Replicas.Select(r => r.Replica.Id).Order());

        await Client.RemoveServiceAsync("idem-worker", Ct);
        var afterRemove = await Client.GetStatusAsync(Ct);
        var again = await Assert.ThrowsAsync<CorralApiException>(() => Client.RemoveServiceAsync("idem-worker", Ct));

        Assert.Equal(HttpStatusCode.NotFound, again.Status);
        Assert.DoesNotContain(await Client.ListServicesAsync(Ct), s => s.Spec.Name == "idem-worker");
        Assert.Empty(await KeyEventsAfterAsync(afterRemove.Revision, "idem-worker"));
        await WaitNoReplicasAsync("idem-worker");
        Assert.DoesNotContain(afterRemove.Services, s => s.Name == "idem-worker");
    }

    /// <summary>Events made through an API key about the service after <paramref name="revision"/>.</summary>
    private async Task<IReadOnlyList<Core.Api.ClusterEvent>> KeyEventsAfterAsync(long revision, string service)
    {
        var page = await Client.GetEventsAsync(revision, null, null, Ct);
        return [.. page.Events.Where(e => e.Actor.StartsWith("key:", StringComparison.Ordinal) && e.Subject == "service/" + service)];
    }
}
