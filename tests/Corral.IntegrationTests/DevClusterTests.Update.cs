using System.Text;
using Corral.Core.Api;
using Corral.Core.Cluster;
using Corral.Core.Tasks;

namespace Corral.IntegrationTests;

public sealed partial class DevClusterTests
{
    [Fact]
    public async Task Update_EnvChanged_ReplacedOneAtATimeWithHealthGating()
    {
        const int Desired = 3;
        await Client.DeployAsync(Stacks.Request(Stacks.Stack("it-roll", Stacks.Web("roll-web", Desired, new Dictionary<string, string> { ["APP_VERSION"] = "1" }))), Ct);
        var v1 = await WaitAllHealthyAsync("roll-web", Desired);
        var samples = new List<IReadOnlyList<ReplicaView>>();
        using var stopSampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stopSampling.IsCancellationRequested)
            {
                samples.Add(await Client.ListReplicasAsync("roll-web", null, Ct).ConfigureAwait(false));
                await Task.Delay(100).ConfigureAwait(false);
            }
        });

        var update = await Client.DeployAsync(Stacks.Request(Stacks.Stack("it-roll", Stacks.Web("roll-web", Desired, new Dictionary<string, string> { ["APP_VERSION"] = "2" }))), Ct);

        Assert.Equal(ServiceChangeKind.Update, Assert.Single(update.Changes).Kind);
        var v2 = (await Client.GetServiceAsync("roll-web", Ct)).Version;
        Assert.NotEqual(v1.Version, v2);
        ServiceView done;
        try
        {
            done = await WaitAllHealthyAsync("roll-web", Desired, v2);
        }
        finally
        {
            await stopSampling.CancelAsync();
            await sampler;
        }

        // Healthy never below desired - 1; at most desired + 1 wanted replicas (stopping ones are on their way out);
        // never more than one new replica starting at a time.
        Assert.True(samples.Count >= 10, $"only {samples.Count} samples during the rollout");
        Assert.Contains(samples, s => s.Any(r => r.Replica.Version == v1.Version) && s.Any(r => r.Replica.Version == v2));
        foreach (var sample in samples)
        {
            var wanted = sample.Where(r => r.Replica.Phase is ReplicaPhase.Pending or ReplicaPhase.Assigned).ToList();
            var healthy = sample.Count(r => r.Replica.Healthy);
            var newStarting = wanted.Count(r => r.Replica.Version == v2 && !r.Replica.Healthy);
            Assert.True(healthy >= Desired - 1, $"healthy dropped to {healthy}:\n{Show(sample)}");
            Assert.True(wanted.Count <= Desired + 1, $"{wanted.Count} replicas at once:\n{Show(sample)}");
            Assert.True(newStarting <= 1, $"{newStarting} new replicas starting at once:\n{Show(sample)}");
        }
        Assert.Equal(Desired, samples.SelectMany(s => s).Where(r => r.Replica.Version == v2).Select(r => r.Replica.Id).Distinct().Count());
        Assert.DoesNotContain(done.Replicas, r => v1.Replicas.Any(o => o.Replica.Id == r.Replica.Id));
        // Every task now runs with the new environment.
        foreach (var replica in done.Replicas)
        {
            var environ = Encoding.UTF8.GetString(File.ReadAllBytes($"/proc/{replica.Pid}/environ")).Split('\0');
            Assert.Contains("APP_VERSION=2", environ);
        }
        foreach (var old in v1.Replicas)
        {
            await WaitDeadAsync(old.Pid!.Value, $"replaced replica {old.Replica.Id}'s process to end");
        }

        await RemoveQuietlyAsync("roll-web");
    }

    [Fact]
    public async Task Update_NewVersionFailsHealth_ShownUnhealthyAndHealthyOldReplicasKept()
    {
        const int Desired = 2;
        await Client.DeployAsync(Stacks.Request(Stacks.Stack("it-gate", Stacks.Web("gate-web", Desired))), Ct);
        var v1 = await WaitAllHealthyAsync("gate-web", Desired);
        var oldIds = v1.Replicas.Select(r => r.Replica.Id).ToHashSet();

        // 0s: /health answers 503 from the first probe on (1s could let a probe pass before the deadline).
        await Client.DeployAsync(Stacks.Request(Stacks.Stack("it-gate", Stacks.Web("gate-web", Desired, null, "--fail-health-after", "0s"))), Ct);
        var v2 = (await Client.GetServiceAsync("gate-web", Ct)).Version;

        var unhealthy = await WaitServiceAsync("gate-web",
            s => s.Replicas.Any(r => r.Replica.Version == v2 && r.Replica.State == ReplicaState.Unhealthy),
            "a new-version replica reported unhealthy");
        Assert.True(unhealthy.Healthy < unhealthy.Running, Describe(unhealthy));

        // For a while after that, the rollout stays gated: both old replicas stay assigned and healthy, their processes
        // keep running, and no second new replica is started.
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(6);
        var observed = 0;
        while (DateTime.UtcNow < until)
        {
            var s = await Client.GetServiceAsync("gate-web", Ct);
            var old = s.Replicas.Where(r => oldIds.Contains(r.Replica.Id)).ToList();
            Assert.True(old.Count == Desired && old.All(r => r.Replica.Healthy), "old replicas must stay healthy:\n" + Describe(s));
            Assert.True(s.Replicas.Count(r => r.Replica.Version == v2 && r.Replica.Phase is ReplicaPhase.Pending or ReplicaPhase.Assigned) <= 1,
                "only one new replica while it is not healthy:\n" + Describe(s));
            Assert.Equal(Desired, s.Healthy);
            observed++;
            await Task.Delay(200);
        }
        Assert.True(observed >= 5, $"only {observed} observations");
        Assert.All(v1.Replicas, r => Assert.True(Testing.ProcessReaper.IsAlive(r.Pid!.Value), $"old replica {r.Replica.Id}'s process {r.Pid} must keep running"));

        await RemoveQuietlyAsync("gate-web");
    }

    private static string Show(IReadOnlyList<ReplicaView> sample) => string.Join("\n", sample.Select(r => "  " + Describe(r)));
}
