using Corral.Core.Tasks;
using System.Text.Json;

namespace Corral.Agent.Supervisor;

public sealed partial class NodeSupervisor
{
    /// <summary>
    /// Loads the state a previous instance recorded. A task it recorded as running is killed (its leader
    /// only when PID and start time still match, so a reused PID is never hit; the rest of its session
    /// and its cgroup too) and marked <see cref="SupervisedTaskState.Lost"/>: the agent restarts it cleanly.
    /// </summary>
    private void RecoverPrevious()
    {
        foreach (var dir in Directory.GetDirectories(_tasksDirectory))
        {
            var path = Path.Combine(dir, "state.json");
            SupervisedTaskInfo? info;
            try
            {
                info = JsonSerializer.Deserialize(File.ReadAllBytes(path), SupervisorJsonContext.Default.SupervisedTaskInfo);
            }
            catch (Exception ex) when (ex is IOException or JsonException)
            {
                continue;
            }
            if (info is null)
            {
                continue;
            }
            info = info with { Cgroups = info.Cgroups ?? [], Spec = info.Spec.WithDefaults() };
            if (info.State == SupervisedTaskState.Running)
            {
                KillLeftovers(info);
                SupervisorLog.LeftoverKilled(_logger, info.Id, info.Pid);
                info = info with
                {
                    State = SupervisedTaskState.Lost,
                    ExitedAt = _time.GetUtcNow(),
                    Error = "the supervisor that ran this task died; its processes were killed",
                };
                Persist(info);
            }
            lock (_lock)
            {
                _tasks[info.Id] = new TaskEntry(info);
            }
        }
        foreach (var leftover in _cgroups.Existing())
        {
            CgroupManager.Remove([leftover]);
        }
    }

    private static void KillLeftovers(SupervisedTaskInfo info)
    {
        if (info.Pid <= 0)
        {
            return;
        }
        var leader = ProcStat.Read(info.Pid);
        var leaderIsOurs = leader is not null && leader.StartTicks == info.StartTicks;
        if (leaderIsOurs)
        {
            Interop.kill(-info.Pid, Signals.SigKill);
        }
        if (leader is null || leaderIsOurs)
        {
            // The session id stays reserved while any member lives, so members of session PID that
            // started after the task did are the task's descendants.
            foreach (var process in ProcStat.All())
            {
                if (process.Session == info.Pid && process.StartTicks >= info.StartTicks)
                {
                    Interop.kill(process.Pid, Signals.SigKill);
                }
            }
        }
        CgroupManager.Remove(info.Cgroups);
    }
}
