namespace Corral.IntegrationTests;

/// <summary>Ctrl-C on a <c>corral dev</c> that runs tasks: it exits 0 and no process of its data directory survives.</summary>
public sealed class DevShutdownTests
{
    [Fact]
    public async Task Dev_SigintWhileTasksRun_ExitsZeroAndLeavesNoProcessBehind()
    {
        var cluster = new DevCluster();
        try
        {
            await cluster.InitializeAsync();
            await cluster.Client.DeployAsync(Stacks.Request(Stacks.Stack("it-stop", Stacks.Web("stop-web", 2), Stacks.Worker("stop-worker", 1))), CancellationToken.None);
            await cluster.WaitAsync(async () =>
            {
                var services = await cluster.Client.ListServicesAsync(CancellationToken.None);
                return services.Count == 2 && services.All(s => s.Replicas.Count == s.Desired && s.Replicas.All(r => r.Pid is not null && r.Replica.State is Core.Tasks.ReplicaState.Healthy or Core.Tasks.ReplicaState.Running))
                    ? (bool?)true : null;
            }, TimeSpan.FromSeconds(90), "3 replicas running");
            var before = cluster.Processes();
            Assert.Contains(before, p => p.CommandLine.Contains(" supervisor ", StringComparison.Ordinal));
            Assert.True(before.Count(p => p.CommandLine.Contains("demo-web", StringComparison.Ordinal) || p.CommandLine.Contains("sleep", StringComparison.Ordinal)) >= 3,
                "the tasks are found as processes of the data dir:\n" + string.Join("\n", before));

            var code = await cluster.StopAsync(TimeSpan.FromSeconds(60));

            Assert.True(code == 0, $"corral dev exit code after SIGINT: {code?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "did not exit in 60 s"}\n{cluster.LogTail()}");
            var left = await cluster.LeftoversAsync(TimeSpan.FromSeconds(5));
            Assert.True(left.Count == 0, "left behind:\n" + string.Join("\n", left));
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }
}
