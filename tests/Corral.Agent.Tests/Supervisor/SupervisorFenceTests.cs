using Corral.Agent.Supervisor;
using Corral.Testing;
using Corral.Testing.Logging;

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

    [Fact]
    public async Task Fence_Fires_SupervisorLogsArmedFiredStopSentExitedGone_InOrder_EachLineTimestamped()
    {
        await using var host = await SupervisorHost.StartAsync();
        var spec = host.ShellTask("single", "trap 'echo got TERM; exit 0' TERM; echo ready; while true; do sleep 0.1; done");
        var started = host.Track(await host.Client.StartAsync(spec, CancellationToken.None));
        await SupervisorStopTests.WaitForLineAsync(spec.LogDirectory, "ready");

        var within = TimeSpan.FromMilliseconds(300);
        await host.Client.FenceAsync("single", within, CancellationToken.None);

        var lines = await Eventually.ValueAsync(
            () => Task.FromResult(ConsoleLogLine.Parse(host.Output()) is var all && all.Any(l => l.EventId == 6217) ? all : null),
            Patience, "the supervisor to log that the fenced task is gone");
        var fence = lines.Where(l => l.EventId is 6210 or 6215 or 6216 or 6202 or 6217).ToList();
        var output = host.Output();
        Assert.True(fence.Select(l => l.EventId).SequenceEqual([6210, 6215, 6216, 6202, 6217]),
            "armed, fired, stop sent, exited, gone expected in that order:\n" + output);
        Assert.All(fence, l => Assert.Equal("Corral.Agent.Supervisor.NodeSupervisor", l.Category));
        Assert.True(fence.Zip(fence.Skip(1)).All(p => p.First.At <= p.Second.At), "timestamps out of order:\n" + output);
        // Timestamps are cut to the millisecond: the fence fires at its deadline, 300 ms after it was armed.
        Assert.True(fence[1].At - fence[0].At >= within - TimeSpan.FromMilliseconds(2), $"fired {(fence[1].At - fence[0].At).TotalMilliseconds} ms after arming\n{output}");
        Assert.Contains($"pid {started.Pid}", fence[2].Message, StringComparison.Ordinal);
        Assert.Contains("SIGTERM", fence[2].Message, StringComparison.Ordinal);
        Assert.Contains($"pid {started.Pid}", fence[4].Message, StringComparison.Ordinal);
        Assert.Equal(["warn", "warn", "warn"], new[] { fence[1], fence[2], fence[4] }.Select(l => l.Level));
        // Every line the supervisor printed is a timestamped log line, but for its startup line.
        var other = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !ConsoleLogLine.IsLogLine(l) && !l.StartsWith("corral supervisor pid ", StringComparison.Ordinal)).ToList();
        Assert.True(other.Count == 0, "lines without the log format:\n" + string.Join('\n', other));
    }
}
