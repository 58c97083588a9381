using System.Globalization;
using Corral.Core.Api;
using Corral.Core.Cluster;

namespace Corral.IntegrationTests;

public sealed partial class DevClusterTests
{
    [Fact]
    public async Task Deploy_WebStackWithHealthChecks_AllHealthyAndSameFileAgainChangesNothing()
    {
        var yaml = Stacks.Stack("it-deploy", Stacks.Web("deploy-web", 3));

        var first = await Client.DeployAsync(Stacks.Request(yaml), Ct);

        Assert.True(first.Changed);
        var created = Assert.Single(first.Changes);
        Assert.Equal(("deploy-web", ServiceChangeKind.Create), (created.Service, created.Kind));
        var view = await WaitAllHealthyAsync("deploy-web", 3);
        Assert.Equal(3, view.Running);
        Assert.All(view.Replicas, r => Assert.Equal(ReplicaPhase.Assigned, r.Replica.Phase));
        // The pid and port the API shows are those of the demo-web that answers there.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        foreach (var replica in view.Replicas)
        {
            Assert.NotNull(replica.Ports);
            var port = replica.Ports["http"];
            var page = await http.GetStringAsync(new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/"), Ct);
            Assert.Contains($"pid: {replica.Pid!.Value.ToString(CultureInfo.InvariantCulture)}\n", page, StringComparison.Ordinal);
            Assert.Equal(replica.Pid, StatusFilePid(replica.Replica.Id));
        }
        var node = await Client.GetNodeAsync("dev", Ct);
        Assert.NotNull(node.LastHeartbeat);
        var revision = (await Client.GetStatusAsync(Ct)).Revision;

        var second = await Client.DeployAsync(Stacks.Request(yaml), Ct);

        Assert.False(second.Changed);
        Assert.Equal(ServiceChangeKind.Unchanged, Assert.Single(second.Changes).Kind);
        var events = await Client.GetEventsAsync(revision, null, null, Ct);
        Assert.DoesNotContain(events.Events, e => e.Actor.StartsWith("key:", StringComparison.Ordinal) || e.Subject is "service/deploy-web" or "stack/it-deploy");
        var again = await Client.GetServiceAsync("deploy-web", Ct);
        Assert.Equal(view.Version, again.Version);
        Assert.Equal(view.Replicas.Select(r => r.Replica.Id).Order(), again.Replicas.Select(r => r.Replica.Id).Order());

        await RemoveQuietlyAsync("deploy-web");
    }

    [Fact]
    public async Task Deploy_WithoutAndWithPrune_ServiceMissingFromFileKeptThenRemovedAndItsProcessStops()
    {
        await Client.DeployAsync(Stacks.Request(Stacks.Stack("it-prune", Stacks.Worker("prune-keep", 1), Stacks.Worker("prune-gone", 1))), Ct);
        var keep = await WaitAllRunningAsync("prune-keep", 1);
        var gone = await WaitAllRunningAsync("prune-gone", 1);
        var gonePid = gone.Replicas[0].Pid!.Value;
        var onlyKeep = Stacks.Stack("it-prune", Stacks.Worker("prune-keep", 1));

        var kept = await Client.DeployAsync(Stacks.Request(onlyKeep), Ct);

        Assert.False(kept.Changed);
        Assert.Contains(kept.Changes, c => c.Service == "prune-gone" && c.Kind == ServiceChangeKind.KeptNotInFile);
        Assert.Contains(kept.Changes, c => c.Service == "prune-keep" && c.Kind == ServiceChangeKind.Unchanged);
        var stillThere = await Client.GetServiceAsync("prune-gone", Ct);
        Assert.Equal(gone.Replicas[0].Replica.Id, Assert.Single(stillThere.Replicas).Replica.Id);
        Assert.True(Testing.ProcessReaper.IsAlive(gonePid), "the kept service's process must keep running");

        var pruned = await Client.DeployAsync(Stacks.Request(onlyKeep, prune: true), Ct);

        Assert.True(pruned.Changed);
        Assert.Contains(pruned.Changes, c => c.Service == "prune-gone" && c.Kind == ServiceChangeKind.Remove);
        var missing = await Assert.ThrowsAsync<Client.CorralApiException>(() => Client.GetServiceAsync("prune-gone", Ct));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, missing.Status);
        await WaitNoReplicasAsync("prune-gone");
        await WaitDeadAsync(gonePid, $"the pruned service's process {gonePid} to end");
        var after = await Client.GetServiceAsync("prune-keep", Ct);
        Assert.Equal(keep.Replicas[0].Replica.Id, Assert.Single(after.Replicas).Replica.Id);
        Assert.Equal(keep.Replicas[0].Pid, after.Replicas[0].Pid);

        await RemoveQuietlyAsync("prune-keep");
    }

    [Fact]
    public async Task Deploy_BadStackFile_Rejected400WithLocatedErrorsAndClusterUnchanged()
    {
        var servicesBefore = await Client.ListServicesAsync(Ct);
        var revision = (await Client.GetStatusAsync(Ct)).Revision;
        const string Bad = """
            stack: it-bad
            services:
              bad-web:
                command: /bin/true
                replica: 2
                health: { http: /health, interval: soon }
                resources: { memory: 12Q }
            """;

        var deploy = await Assert.ThrowsAsync<Client.CorralApiException>(() => Client.DeployAsync(new DeployRequest(Bad, "bad-stack.yaml"), Ct));
        var diff = await Assert.ThrowsAsync<Client.CorralApiException>(() => Client.DiffAsync(new DeployRequest(Bad, "bad-stack.yaml"), Ct));

        foreach (var error in new[] { deploy, diff })
        {
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, error.Status);
            Assert.True(error.Errors.Count >= 3, "every error at once: " + error.Message);
            Assert.All(error.Errors, e =>
            {
                Assert.Equal("bad-stack.yaml", e.File);
                Assert.NotNull(e.Line);
                Assert.NotNull(e.Column);
                Assert.False(string.IsNullOrEmpty(e.Field));
            });
            var unknown = Assert.Single(error.Errors, e => e.Message.Contains("did you mean 'replicas'", StringComparison.Ordinal));
            Assert.Equal((5, 5), (unknown.Line, unknown.Column));
            Assert.Contains(error.Errors, e => e.Line == 6 && e.Field.EndsWith("interval", StringComparison.Ordinal));
            Assert.Contains(error.Errors, e => e.Line == 7 && e.Field.EndsWith("memory", StringComparison.Ordinal));
        }
        var scale = await Assert.ThrowsAsync<Client.CorralApiException>(() => Client.ScaleAsync("bad-web", -1, Ct));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, scale.Status);
        Assert.Contains(scale.Errors, e => e.Field == "replicas");

        var servicesAfter = await Client.ListServicesAsync(Ct);
        Assert.Equal(
            servicesBefore.Select(s => (s.Spec.Name, s.Version, s.Desired)),
            servicesAfter.Select(s => (s.Spec.Name, s.Version, s.Desired)));
        Assert.DoesNotContain(servicesAfter, s => s.Spec.Name == "bad-web");
        // Nothing an API key did was written (replica reports of other services may move the revision meanwhile).
        var events = await Client.GetEventsAsync(revision, null, null, Ct);
        Assert.DoesNotContain(events.Events, e => e.Actor.StartsWith("key:", StringComparison.Ordinal));
    }
}
