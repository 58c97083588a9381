using Corral.Core.Tasks;
using System.Diagnostics;
using Corral.Agent.Logs;
using Corral.Agent.Supervisor;
using Corral.Testing;

namespace Corral.Agent.Tests.Supervisor;

public sealed class SupervisorStopTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    internal static async Task WaitForLineAsync(string logDir, string text)
    {
        await Eventually.TrueAsync(
            () => TaskLogReader.Read(logDir, 0, int.MaxValue / 4).Lines.Any(l => l.Text == text),
            Patience,
            $"log line '{text}' in {logDir}");
    }

    [Fact]
    public async Task Stop_TaskHandlingSigterm_ExitsGracefullyBeforeTimeout()
    {
        await using var host = await SupervisorHost.StartAsync();
        var spec = host.ShellTask("graceful", "trap 'echo got TERM; exit 0' TERM; echo ready; while true; do sleep 0.1; done");
        var started = host.Track(await host.Client.StartAsync(spec, CancellationToken.None));
        await WaitForLineAsync(spec.LogDirectory, "ready");

        var stopped = await host.Client.StopAsync("graceful", null, TimeSpan.FromSeconds(60), CancellationToken.None);

        Assert.Equal(SupervisedTaskState.Exited, stopped.State);
        Assert.Equal(0, stopped.ExitCode);
        Assert.Null(stopped.Signal);
        Assert.Contains(TaskLogReader.Read(spec.LogDirectory, 0).Lines, l => l.Text == "got TERM" && l.Stream == "stdout");
        Assert.Empty(ProcessReaper.SessionMembers(started.Pid));
    }

    [Fact]
    public async Task Stop_TaskIgnoringSigterm_KilledAfterStopTimeout()
    {
        await using var host = await SupervisorHost.StartAsync();
        var spec = host.ShellTask("stubborn", "trap '' TERM; echo ready; while true; do sleep 0.1; done", stopTimeoutMs: 1000);
        var started = host.Track(await host.Client.StartAsync(spec, CancellationToken.None));
        await WaitForLineAsync(spec.LogDirectory, "ready");

        var watch = Stopwatch.StartNew();
        var stopped = await host.Client.StopAsync("stubborn", null, null, CancellationToken.None);
        watch.Stop();

        Assert.Equal(SupervisedTaskState.Exited, stopped.State);
        Assert.Equal(Signals.SigKill, stopped.Signal);
        Assert.Equal(128 + Signals.SigKill, stopped.ExitCode);
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(950), $"SIGKILL came after {watch.ElapsedMilliseconds} ms, before the 1 s stop timeout");
        Assert.Empty(ProcessReaper.SessionMembers(started.Pid));
    }

    [Fact]
    public async Task Stop_TaskWithChildren_WholeTreeIsGone()
    {
        await using var host = await SupervisorHost.StartAsync();
        // Two children in the task's group, one grandchild, and one child that leaves the group with setsid.
        var spec = host.ShellTask(
            "tree",
            "sleep 300 & sleep 300 & sh -c 'sleep 300 & wait' & setsid sleep 301 & echo $! > escaped.pid; echo ready; wait");
        var started = host.Track(await host.Client.StartAsync(spec, CancellationToken.None));
        await WaitForLineAsync(spec.LogDirectory, "ready");
        var escapedPid = int.Parse(File.ReadAllText(Path.Combine(spec.WorkingDirectory, "escaped.pid")).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        host.Reaper.TrackSession(escapedPid);
        await Eventually.TrueAsync(() => ProcessReaper.SessionMembers(started.Pid).Count >= 5, Patience, "the task's tree to be up");
        Assert.True(ProcessReaper.IsAlive(escapedPid));

        var stopped = await host.Client.StopAsync("tree", null, TimeSpan.FromSeconds(10), CancellationToken.None);

        Assert.Equal(SupervisedTaskState.Exited, stopped.State);
        await Eventually.TrueAsync(() => ProcessReaper.SessionMembers(started.Pid).Count == 0, Patience, "every process of the task's group to be gone");
        if (!host.Hello!.CgroupMode.StartsWith("none", StringComparison.Ordinal))
        {
            // Only the task's cgroup can find a process that left its session.
            await Eventually.TrueAsync(() => !ProcessReaper.IsAlive(escapedPid), Patience, "the escaped child to be killed through the task's cgroup");
        }
    }

    [Fact]
    public async Task Exit_LeaderExitsLeavingChildren_ChildrenKilledAndExitRecorded()
    {
        await using var host = await SupervisorHost.StartAsync();
        var spec = host.ShellTask("daemonizer", "sleep 300 & echo $! > child.pid; exit 3");
        var started = host.Track(await host.Client.StartAsync(spec, CancellationToken.None));

        var exited = await host.Client.WaitAsync("daemonizer", started.Generation, Patience, CancellationToken.None);

        Assert.Equal(SupervisedTaskState.Exited, exited.State);
        Assert.Equal(3, exited.ExitCode);
        await Eventually.TrueAsync(() => ProcessReaper.SessionMembers(started.Pid).Count == 0, Patience, "the left-behind child to be killed");
        var state = File.ReadAllText(Path.Combine(host.DataDir, "tasks", "daemonizer", "state.json"));
        Assert.Contains("\"exitCode\":3", state, StringComparison.Ordinal);
    }
}
