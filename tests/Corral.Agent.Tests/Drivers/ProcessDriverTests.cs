using Corral.Agent.Drivers;
using Corral.Agent.Tests.Supervisor;
using Corral.Core.Tasks;
using Corral.Testing;

namespace Corral.Agent.Tests.Drivers;

public sealed class ProcessDriverTests
{
    private static TaskConfig Config(SupervisorHost host, string id, string script)
    {
        var spec = host.ShellTask(id, script);
        return new TaskConfig
        {
            Id = id,
            Command = spec.Command,
            Args = spec.Args,
            Env = spec.Env,
            WorkingDirectory = spec.WorkingDirectory,
            StopTimeout = TimeSpan.FromSeconds(5),
            LogDirectory = spec.LogDirectory,
        };
    }

    [Fact]
    public async Task Destroy_WithoutStart_IsSafeAndRepeatable()
    {
        await using var host = await SupervisorHost.StartAsync();
        var driver = new ProcessDriver(host.Client, TimeProvider.System);

        await driver.DestroyAsync("never-started", CancellationToken.None);
        await driver.DestroyAsync("never-started", CancellationToken.None);

        Assert.Null(await driver.InspectAsync("never-started", CancellationToken.None));
    }

    [Fact]
    public async Task StartWaitStop_RealProcess_ReportsExitAndStats()
    {
        await using var host = await SupervisorHost.StartAsync();
        var driver = new ProcessDriver(host.Client, TimeProvider.System);

        var handle = await driver.StartAsync(Config(host, "worker", "sleep 300 & echo ready; wait"), CancellationToken.None);
        host.Reaper.TrackSession(handle.Pid);
        Assert.Equal("process", handle.Driver);
        Assert.True(ProcessReaper.IsAlive(handle.Pid));
        // The shell forks its sleep after it starts: sample until the tree has both (a loaded machine may take a while).
        var stats = await Eventually.ValueAsync(async () =>
        {
            var sample = await driver.StatsAsync([handle], CancellationToken.None);
            return sample["worker"].ProcessCount >= 2 ? sample : null;
        }, TimeSpan.FromSeconds(10), "the task's shell and its sleep to be counted");
        Assert.True(stats["worker"].RssBytes > 0);

        var wait = driver.WaitAsync(handle, CancellationToken.None);
        Assert.False(wait.IsCompleted);
        var stopped = await driver.StopAsync(handle, null, null, CancellationToken.None);
        var exit = await wait;

        Assert.NotNull(stopped);
        Assert.Equal(128 + 15, exit.ExitCode);
        Assert.Equal(15, exit.Signal);
        Assert.False(exit.Lost);
        Assert.Null(await driver.StopAsync(handle, null, null, CancellationToken.None));
        Assert.Empty(await driver.StatsAsync([handle], CancellationToken.None));
    }

    [Fact]
    public async Task Recover_RunningTask_SamePidWithoutRestart()
    {
        await using var host = await SupervisorHost.StartAsync();
        var first = new ProcessDriver(host.Client, TimeProvider.System);
        var handle = await first.StartAsync(Config(host, "survivor", "exec sleep 300"), CancellationToken.None);
        host.Reaper.TrackSession(handle.Pid);

        // A new driver (as in a restarted agent) with only the saved handle.
        var second = new ProcessDriver(new Corral.Agent.Supervisor.SupervisorClient(host.Client.SocketPath), TimeProvider.System);
        var found = await second.RecoverAsync(handle with { }, CancellationToken.None);

        Assert.True(found.Running);
        Assert.Equal(handle.Pid, found.Pid);
        Assert.Equal(1, (await host.Client.InspectAsync("survivor", CancellationToken.None))!.Generation);
    }

    [Fact]
    public async Task Recover_AfterTheRunWasReplaced_NotRecoverable()
    {
        await using var host = await SupervisorHost.StartAsync();
        var driver = new ProcessDriver(host.Client, TimeProvider.System);
        var config = Config(host, "replaced", "exit 0");
        var old = await driver.StartAsync(config, CancellationToken.None);
        await driver.WaitAsync(old, CancellationToken.None);
        var current = await driver.StartAsync(config with { Args = ["-c", "exec sleep 300"] }, CancellationToken.None);
        host.Reaper.TrackSession(current.Pid);

        var refused = await Assert.ThrowsAsync<TaskNotRecoverableException>(() => driver.RecoverAsync(old, CancellationToken.None));

        Assert.Contains("is gone", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_UnknownUser_ThrowsNamingTheUser()
    {
        await using var host = await SupervisorHost.StartAsync();
        var driver = new ProcessDriver(host.Client, TimeProvider.System);

        var refused = await Assert.ThrowsAsync<TaskStartException>(
            () => driver.StartAsync(Config(host, "who", "true") with { User = "no-such-user-xyz", Resources = ResourceLimits.None }, CancellationToken.None));

        Assert.Contains("unknown user: no-such-user-xyz", refused.Message, StringComparison.Ordinal);
    }
}
