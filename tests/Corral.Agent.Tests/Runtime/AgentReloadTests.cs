using System.Text.Json.Nodes;
using Corral.Core.Tasks;
using Corral.Testing;
using Corral.Testing.Logging;

namespace Corral.Agent.Tests.Runtime;

public sealed class AgentReloadTests
{
    [Fact]
    public async Task TasksFileChanged_AddsRemovesAndReplacesTasks()
    {
        await using var host = new AgentHost();
        host.WriteTasks(new JsonObject
        {
            ["keep"] = AgentHost.Shell("exec sleep 300"),
            ["drop"] = AgentHost.Shell("exec sleep 301"),
            ["change"] = AgentHost.Shell("exec sleep 302"),
        });
        await host.StartAsync(3);
        var keep = await host.WaitForStateAsync("keep", ReplicaState.Healthy);
        var drop = await host.WaitForStateAsync("drop", ReplicaState.Healthy);
        var change = await host.WaitForStateAsync("change", ReplicaState.Healthy);

        host.WriteTasks(new JsonObject
        {
            ["keep"] = AgentHost.Shell("exec sleep 300"),
            ["change"] = AgentHost.Shell("exec sleep 303"),
            ["new"] = AgentHost.Shell("exec sleep 304"),
        });

        await host.WaitForStateAsync("new", ReplicaState.Healthy);
        var changed = await host.WaitForAsync("change", v => v.State == ReplicaState.Healthy && v.Pid != change.Pid, "replaced");
        await Eventually.TrueAsync(() => host.Status()?.Replicas.ContainsKey("drop") == false, TimeSpan.FromSeconds(60), "drop to be removed");
        await Eventually.TrueAsync(() => !ProcessReaper.IsAlive(drop.Pid) && !ProcessReaper.IsAlive(change.Pid), TimeSpan.FromSeconds(60), "the removed and the replaced task to stop");
        Assert.Equal(keep.Pid, host.Status()!.Replicas["keep"].Pid);
        Assert.True(ProcessReaper.IsAlive(keep.Pid));
        Assert.True(ProcessReaper.IsAlive(changed.Pid));
        Assert.False(File.Exists(Path.Combine(host.DataDir, "handles", "drop.json")));

        // The agent says what it applied and what it stopped, each line timestamped; its only other line is the startup line.
        var lines = await Eventually.ValueAsync(
            () => Task.FromResult(ConsoleLogLine.Parse(host.AgentOutput()) is var all && all.Any(l => l.EventId == 6100 && l.Message.Contains("3 desired; 1 added", StringComparison.Ordinal)) ? all : null),
            TimeSpan.FromSeconds(30), "the agent to log the second apply");
        var output = host.AgentOutput();
        var applied = lines.Single(l => l.EventId == 6100 && l.Message.Contains("3 desired; 1 added", StringComparison.Ordinal));
        Assert.Contains("1 removed, 1 replaced", applied.Message, StringComparison.Ordinal);
        Assert.Equal("Corral.Agent.Runtime.AgentRuntime", applied.Category);
        Assert.Contains(lines, l => l.EventId == 6118 && l.Message.StartsWith("Replica drop stopped", StringComparison.Ordinal) && l.Message.Contains($"pid {drop.Pid}", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.EventId == 6110 && l.Message.StartsWith("Replica new started", StringComparison.Ordinal));
        var other = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !ConsoleLogLine.IsLogLine(l)).ToList();
        Assert.True(other.Count == 1 && other[0].StartsWith("corral agent pid ", StringComparison.Ordinal), "lines without the log format:\n" + string.Join('\n', other));
    }

    [Fact]
    public async Task Sighup_FileRewrittenWithSameSizeAndTime_Reloaded()
    {
        await using var host = new AgentHost();
        host.WriteTasks(new JsonObject { ["aaa"] = AgentHost.Shell("exec sleep 300") });
        await host.StartAsync(1);
        var first = await host.WaitForStateAsync("aaa", ReplicaState.Healthy);
        var stamp = File.GetLastWriteTimeUtc(host.TasksFile);
        var size = new FileInfo(host.TasksFile).Length;

        // Same length, same modification time: only the signal can tell the agent.
        host.WriteTasks(new JsonObject { ["bbb"] = AgentHost.Shell("exec sleep 300") });
        File.SetLastWriteTimeUtc(host.TasksFile, stamp);
        Assert.Equal(size, new FileInfo(host.TasksFile).Length);
        Assert.Equal(0, Signal(host.Agent!.Id, 1));

        await host.WaitForStateAsync("bbb", ReplicaState.Healthy);
        await Eventually.TrueAsync(() => host.Status()?.Replicas.ContainsKey("aaa") == false && !ProcessReaper.IsAlive(first.Pid), TimeSpan.FromSeconds(60), "aaa to be removed");
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    private static extern int Signal(int pid, int signal);

    [Fact]
    public async Task StatusFile_RunningTask_ShowsTreeAndNodeStats()
    {
        await using var host = new AgentHost();
        host.WriteTasks(new JsonObject { ["tree"] = AgentHost.Shell("sleep 300 & sleep 300 & wait") });
        await host.StartAsync(1);

        var view = await host.WaitForAsync("tree", v => v.Stats is { ProcessCount: >= 3 }, "stats of its three processes");

        Assert.True(view.Stats!.RssBytes > 0);
        Assert.NotNull(host.Status()!.Node);
    }
}
