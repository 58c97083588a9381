namespace Corral.IntegrationTests;

/// <summary>
/// Ctrl-C on a <c>corral dev</c> that runs tasks: it exits 0 and no process of its data directory survives; started
/// again on the same data directory it resumes the cluster.
/// </summary>
public sealed class DevShutdownTests
{
    [Fact]
    public async Task Dev_SigintWhileTasksRunThenStartAgain_ExitsZeroLeavesNoProcessAndResumesTheCluster()
    {
        var cluster = new DevCluster();
        Exception? failure = null;
        try
        {
            await cluster.StartAsync();
            await cluster.Client.DeployAsync(Stacks.Request(Stacks.Stack("it-stop", Stacks.Web("stop-web", 2), Stacks.Worker("stop-worker", 1))), CancellationToken.None);
            var services = await AllRunningAsync(cluster);
            var before = cluster.Processes();
            Assert.Contains(before, p => p.CommandLine.Contains(" supervisor ", StringComparison.Ordinal));
            Assert.True(before.Count(p => p.CommandLine.Contains("demo-web", StringComparison.Ordinal) || p.CommandLine.Contains("sleep", StringComparison.Ordinal)) >= 3,
                "the tasks are found as processes of the data dir:\n" + string.Join("\n", before));

            await StopCleanlyAsync(cluster);

            // 'corral dev' again resumes the same cluster: same admin key and services, tasks running again.
            await cluster.StartAsync();
            var resumed = await AllRunningAsync(cluster);
            Assert.Equal(services.Select(s => (s.Spec.Name, s.Version, s.Desired)), resumed.Select(s => (s.Spec.Name, s.Version, s.Desired)));
            var oldPids = services.SelectMany(s => s.Replicas).Select(r => r.Pid).ToHashSet();
            Assert.DoesNotContain(resumed.SelectMany(s => s.Replicas), r => oldPids.Contains(r.Pid));

            await StopCleanlyAsync(cluster);
        }
        catch (Exception e)
        {
            failure = e;
            throw;
        }
        finally
        {
            try
            {
                await cluster.DisposeAsync();
            }
            catch (Exception cleanup) when (failure is not null)
            {
                // A dispose that fails (processes left behind) must not hide why the test failed: report both.
                throw new AggregateException(failure, cleanup);
            }
        }
    }

    private static async Task StopCleanlyAsync(DevCluster cluster)
    {
        var code = await cluster.StopAsync(TimeSpan.FromSeconds(60));

        Assert.True(code == 0, $"corral dev exit code after SIGINT: {code?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "did not exit in 60 s"}\n{cluster.LogTail()}");
        var left = await cluster.LeftoversAsync(TimeSpan.FromSeconds(5));
        Assert.True(left.Count == 0, "left behind:\n" + string.Join("\n", left));
    }

    /// <summary>Waits until both services have every replica running (demo-web healthy) with a pid.</summary>
    private static Task<IReadOnlyList<Core.Api.ServiceView>> AllRunningAsync(DevCluster cluster) =>
        cluster.WaitAsync(async () =>
        {
            var services = await cluster.Client.ListServicesAsync(CancellationToken.None);
            return services.Count == 2 && services.All(s => s.Replicas.Count == s.Desired && s.Replicas.All(r =>
                r.Pid is not null && r.Replica.Phase == Core.Cluster.ReplicaPhase.Assigned
                && r.Replica.State is Core.Tasks.ReplicaState.Healthy or Core.Tasks.ReplicaState.Running))
                ? services : null;
        }, TimeSpan.FromSeconds(90), "every replica of it-stop running");
}
