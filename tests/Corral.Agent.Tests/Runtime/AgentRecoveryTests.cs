using System.Globalization;
using System.Text.Json.Nodes;
using Corral.Agent.Supervisor;
using Corral.Core.Tasks;
using Corral.Testing;

namespace Corral.Agent.Tests.Runtime;

public sealed class AgentRecoveryTests
{
    private const string Counter = "i=0; while true; do echo \"$i\"; i=$((i+1)); sleep 0.05; done";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task KillAgent_FiveTasksRunning_RestartedAgentReattachesWithoutRestartOrLogGap()
    {
        await using var host = new AgentHost();
        var ids = Enumerable.Range(0, 5).Select(i => $"counter-{i}").ToList();
        var tasks = new JsonObject();
        foreach (var id in ids)
        {
            tasks[id] = AgentHost.Shell(Counter);
        }
        host.WriteTasks(tasks);
        await host.StartAsync(5);
        var before = new Dictionary<string, int>();
        foreach (var id in ids)
        {
            var view = await host.WaitForAsync(id, v => v.State == ReplicaState.Healthy && v.Pid > 0, "healthy with a pid");
            before[id] = view.Pid;
        }
        await Eventually.TrueAsync(() => ids.All(id => host.Delivered(id).Count >= 10), Patience, "ten delivered lines per task");

        ProcessReaper.Kill(host.Agent!.Id);
        await Eventually.TrueAsync(() => !ProcessReaper.IsAlive(host.Agent.Id), Patience, "the agent to die");
        var deliveredAtKill = ids.ToDictionary(id => id, id => host.Delivered(id).Count);
        // The tasks keep running and writing while no agent runs.
        await Eventually.TrueAsync(
            () => ids.All(id => Supervisor(host, id) is { } info && info.LogOffset > (host.Delivered(id).LastOrDefault().Next + 200)),
            Patience,
            "the tasks to write on while the agent is down");
        Assert.All(ids, id => Assert.True(ProcessReaper.IsAlive(before[id]), $"{id} died with the agent"));

        await host.StartAsync(5);

        foreach (var id in ids)
        {
            var view = await host.WaitForAsync(id, v => v.Reason.StartsWith("re-attached", StringComparison.Ordinal), "re-attached");
            Assert.Equal(before[id], view.Pid);
            Assert.Equal(ReplicaState.Healthy, view.State);
            Assert.Equal(0, view.Restarts);
            var info = Supervisor(host, id)!;
            Assert.Equal(1, info.Generation);
            Assert.Equal(before[id], info.Pid);
        }
        await Eventually.TrueAsync(() => ids.All(id => host.Delivered(id).Count > deliveredAtKill[id] + 20), Patience, "delivery to continue after the restart");
        foreach (var id in ids)
        {
            var lines = host.Delivered(id);
            for (var i = 0; i < lines.Count; i++)
            {
                Assert.Equal(i.ToString(CultureInfo.InvariantCulture), lines[i].Text);
                if (i > 0)
                {
                    Assert.Equal(lines[i - 1].Next, lines[i].Offset);
                }
            }
        }
    }

    [Fact]
    public async Task KillSupervisor_TasksDieAndComeBackUnderANewSupervisor()
    {
        await using var host = new AgentHost();
        var tasks = new JsonObject
        {
            ["a"] = AgentHost.Shell("sh -c 'sleep 300 & wait' & " + Counter),
            ["b"] = AgentHost.Shell(Counter),
            ["c"] = AgentHost.Shell(Counter),
        };
        host.WriteTasks(tasks);
        await host.StartAsync(3);
        var before = new Dictionary<string, int>();
        foreach (var id in new[] { "a", "b", "c" })
        {
            before[id] = (await host.WaitForAsync(id, v => v.State == ReplicaState.Healthy && v.Pid > 0, "healthy")).Pid;
        }
        await Eventually.TrueAsync(() => ProcessReaper.SessionMembers(before["a"]).Count >= 3, Patience, "task a's children to be up");
        var supervisor = host.SupervisorPid();

        ProcessReaper.Kill(supervisor);

        // No task process is left running unsupervised (children included)...
        await Eventually.TrueAsync(
            () => before.Values.All(pid => ProcessReaper.SessionMembers(pid).Count == 0),
            Patience,
            "every process of the old tasks to be gone");
        // ...and the agent brings the tasks back under a new supervisor.
        foreach (var id in before.Keys)
        {
            var view = await host.WaitForAsync(id, v => v.State == ReplicaState.Healthy && v.Pid > 0 && v.Pid != before[id], "running again with a new pid");
            Assert.Equal(0, view.Restarts);
            Assert.True(ProcessReaper.IsAlive(view.Pid));
        }
        var status = host.Status()!;
        Assert.NotEqual(supervisor, status.SupervisorPid);
        Assert.Equal(status.SupervisorPid, host.SupervisorPid());
        Assert.True(ProcessReaper.IsAlive(host.Agent!.Id), "the agent died");
    }

    [Fact]
    public async Task UnrecordedRun_AgentCrashedBeforeSavingIt_ReplacedByOneCleanStart()
    {
        await using var host = new AgentHost();
        // A supervisor already runs a task under the id, as if an agent had started it and died before
        // recording the handle.
        var supervisorData = Path.Combine(host.DataDir, "supervisor");
        Directory.CreateDirectory(supervisorData);
        var supervisor = host.Reaper.Start(CorralBinary.Dotnet, [CorralBinary.Dll, "supervisor", "--data-dir", supervisorData], host.Dir.Combine("sup.out"));
        await Eventually.TrueAsync(() => Try(() => host.Supervisor.HelloAsync(CancellationToken.None).GetAwaiter().GetResult().Pid == supervisor.Id), Patience, "the supervisor to answer");
        var taskDir = host.Dir.Combine("orphan");
        Directory.CreateDirectory(taskDir);
        var orphan = await host.Supervisor.StartAsync(
            new SupervisedTaskSpec { Id = "job", Command = "/bin/sleep", Args = ["300"], WorkingDirectory = taskDir, LogDirectory = Path.Combine(host.DataDir, "tasks", "job", "logs") },
            CancellationToken.None);
        host.Reaper.TrackSession(orphan.Pid);
        host.WriteTasks(new JsonObject { ["job"] = AgentHost.Shell(Counter) });

        await host.StartAsync(1);

        var view = await host.WaitForAsync("job", v => v.State == ReplicaState.Healthy && v.Pid > 0, "healthy");
        Assert.NotEqual(orphan.Pid, view.Pid);
        await Eventually.TrueAsync(() => !ProcessReaper.IsAlive(orphan.Pid), Patience, "the unrecorded run to be stopped");
        Assert.Equal(supervisor.Id, host.Status()!.SupervisorPid);
    }

    private static bool Try(Func<bool> probe)
    {
        try
        {
            return probe();
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static SupervisedTaskInfo? Supervisor(AgentHost host, string id) =>
        host.Supervisor.InspectAsync(id, CancellationToken.None).GetAwaiter().GetResult();
}
