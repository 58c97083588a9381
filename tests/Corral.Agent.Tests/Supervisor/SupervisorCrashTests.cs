using Corral.Agent.Logs;
using Corral.Agent.Supervisor;
using Corral.Testing;

namespace Corral.Agent.Tests.Supervisor;

public sealed class SupervisorCrashTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task KillSupervisor_TasksDieAndNextInstanceReportsThemLost()
    {
        await using var host = await SupervisorHost.StartAsync();
        var tasks = new List<SupervisedTaskInfo>();
        for (var i = 0; i < 3; i++)
        {
            // Each task also has a child and a grandchild, which the parent-death signal does not reach.
            var spec = host.ShellTask($"t{i}", "sh -c 'sleep 300 & wait' & echo ready; wait");
            tasks.Add(host.Track(await host.Client.StartAsync(spec, CancellationToken.None)));
            await SupervisorStopTests.WaitForLineAsync(spec.LogDirectory, "ready");
        }
        await Eventually.TrueAsync(() => tasks.All(t => ProcessReaper.SessionMembers(t.Pid).Count >= 3), Patience, "every task tree to be up");

        ProcessReaper.Kill(host.Process!.Id);

        // The leaders die with the supervisor (parent-death signal)...
        await Eventually.TrueAsync(() => tasks.All(t => !ProcessReaper.IsAlive(t.Pid)), Patience, "every task leader to die with the supervisor");
        // ...and the next supervisor kills what is left of each task before it serves.
        await host.LaunchAsync();
        foreach (var task in tasks)
        {
            Assert.Empty(ProcessReaper.SessionMembers(task.Pid));
        }
        var listed = await host.Client.ListAsync(CancellationToken.None);
        Assert.Equal(3, listed.Count);
        Assert.All(listed, t => Assert.Equal(SupervisedTaskState.Lost, t.State));

        // The tasks come back under the new supervisor, their logs continuing where they stopped.
        foreach (var task in tasks)
        {
            var restarted = host.Track(await host.Client.StartAsync(task.Spec, CancellationToken.None));
            Assert.Equal(task.Generation + 1, restarted.Generation);
            Assert.NotEqual(task.Pid, restarted.Pid);
            Assert.True(restarted.RunLogOffset > 0);
        }
    }

    [Fact]
    public async Task Start_SameIdAfterExit_LogContinuesAtSameOffset()
    {
        await using var host = await SupervisorHost.StartAsync();
        var spec = host.ShellTask("again", "echo run");
        var first = host.Track(await host.Client.StartAsync(spec, CancellationToken.None));
        var firstExit = await host.Client.WaitAsync("again", first.Generation, Patience, CancellationToken.None);
        Assert.Equal(SupervisedTaskState.Exited, firstExit.State);

        var second = host.Track(await host.Client.StartAsync(spec, CancellationToken.None));
        var secondExit = await host.Client.WaitAsync("again", second.Generation, Patience, CancellationToken.None);

        Assert.Equal(firstExit.LogOffset, second.RunLogOffset);
        var lines = TaskLogReader.Read(spec.LogDirectory, 0).Lines;
        Assert.Equal(2, lines.Count);
        Assert.Equal(secondExit.LogOffset, lines[^1].NextOffset);
        Assert.Equal(second.RunLogOffset, lines[1].Offset);
    }

    [Fact]
    public async Task SecondSupervisor_SameDataDir_Refused()
    {
        await using var host = await SupervisorHost.StartAsync();
        var outFile = host.Dir.Combine("second.out");
        var second = host.Reaper.Start(CorralBinary.Dotnet, [CorralBinary.Dll, "supervisor", "--data-dir", host.DataDir, "--socket", host.Dir.Combine("other.sock")], outFile);

        Assert.True(second.WaitForExit(60_000), "the second supervisor did not give up");
        Assert.Equal(1, second.ExitCode);
        Assert.Contains("another supervisor holds", File.ReadAllText(outFile), StringComparison.Ordinal);
        Assert.Equal(host.Hello!.InstanceId, (await host.Client.HelloAsync(CancellationToken.None)).InstanceId);
    }
}
