using Corral.Agent.Supervisor;
using Corral.Testing;

namespace Corral.Agent.Tests.Supervisor;

/// <summary>The supervisor's fence on a task: it stops a task whose fence is not renewed, whatever its agent does.</summary>
public sealed class SupervisorFenceTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Fence_NotRenewed_StopsTheTaskAndRefusesItsStartUntilRenewed()
    {
        await using var host = await SupervisorHost.StartAsync();
        var spec = host.ShellTask("single", "trap 'echo got TERM; exit 0' TERM; echo ready; while true; do sleep 0.1; done");
        host.Track(await host.Client.StartAsync(spec, CancellationToken.None));
        await SupervisorStopTests.WaitForLineAsync(spec.LogDirectory, "ready");

        await host.Client.FenceAsync("single", TimeSpan.FromMilliseconds(300), CancellationToken.None);

        await Eventually.ValueAsync(async () => await host.Client.InspectAsync("single", CancellationToken.None) is { State: SupervisedTaskState.Exited } info ? info : null, Patience, "the fenced task to stop");
        await SupervisorStopTests.WaitForLineAsync(spec.LogDirectory, "got TERM");
        var refused = await Assert.ThrowsAsync<SupervisorException>(() => host.Client.StartAsync(spec, CancellationToken.None));
        Assert.Contains("fenced", refused.Message, StringComparison.Ordinal);

        await host.Client.FenceAsync("single", TimeSpan.FromMinutes(5), CancellationToken.None);
        var again = host.Track(await host.Client.StartAsync(spec, CancellationToken.None));
        Assert.Equal(SupervisedTaskState.Running, again.State);
    }

    [Fact]
    public async Task Fence_RenewedInTime_OrCleared_LeavesTheTaskRunning()
    {
        await using var host = await SupervisorHost.StartAsync();
        var spec = host.ShellTask("kept", "echo ready; while true; do sleep 0.1; done");
        var started = host.Track(await host.Client.StartAsync(spec, CancellationToken.None));
        await SupervisorStopTests.WaitForLineAsync(spec.LogDirectory, "ready");

        for (var i = 0; i < 6; i++)
        {
            await host.Client.FenceAsync("kept", TimeSpan.FromSeconds(2), CancellationToken.None);
            await Task.Delay(200);
        }
        await host.Client.FenceAsync("kept", null, CancellationToken.None);
        await Task.Delay(2500);

        var info = await host.Client.InspectAsync("kept", CancellationToken.None);
        Assert.Equal(SupervisedTaskState.Running, info!.State);
        Assert.Equal(started.Pid, info.Pid);
    }
}
