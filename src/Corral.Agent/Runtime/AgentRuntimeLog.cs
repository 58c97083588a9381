using Microsoft.Extensions.Logging;

namespace Corral.Agent.Runtime;

/// <summary>
/// Log messages of the agent's runtime: EventIds 6100–6199. Assignments 6100–6109, replicas 6110–6129, the agent's
/// fence stops 6130–6139, the supervisor guard 6140–6149. Replica lines name the task id (the replica id when joined).
/// </summary>
internal static partial class AgentRuntimeLog
{
    [LoggerMessage(EventId = 6100, Level = LogLevel.Information, Message = "Applied the node's tasks: {Desired} desired; {Added} added (started, or re-attached after an agent restart), {Removed} removed, {Replaced} replaced (spec changed)")]
    public static partial void Applied(ILogger logger, int desired, int added, int removed, int replaced);

    [LoggerMessage(EventId = 6101, Level = LogLevel.Information, Message = "Task {Id}, left by a previous agent, is no longer assigned to this node: destroyed")]
    public static partial void Forgotten(ILogger logger, string id);

    [LoggerMessage(EventId = 6110, Level = LogLevel.Information, Message = "Replica {Id} started: pid {Pid}{Note}")]
    public static partial void ReplicaStarted(ILogger logger, string id, int pid, string note);

    [LoggerMessage(EventId = 6111, Level = LogLevel.Information, Message = "Replica {Id} re-attached to its running task: pid {Pid}")]
    public static partial void ReplicaReattached(ILogger logger, string id, int pid);

    [LoggerMessage(EventId = 6112, Level = LogLevel.Information, Message = "Replica {Id} (pid {Pid}) exited with code {ExitCode}{Signal}")]
    public static partial void ReplicaExited(ILogger logger, string id, int pid, int exitCode, string signal);

    [LoggerMessage(EventId = 6113, Level = LogLevel.Warning, Message = "Replica {Id} restarting in {BackoffSeconds:0.###} s (restart {Restarts}): {Reason}")]
    public static partial void ReplicaRestarting(ILogger logger, string id, double backoffSeconds, int restarts, string reason);

    [LoggerMessage(EventId = 6114, Level = LogLevel.Information, Message = "Replica {Id} stopped for good (its restart policy does not start it again): {Reason}")]
    public static partial void ReplicaEnded(ILogger logger, string id, string reason);

    [LoggerMessage(EventId = 6115, Level = LogLevel.Warning, Message = "Replica {Id} failed: {Reason}")]
    public static partial void ReplicaFailed(ILogger logger, string id, string reason);

    [LoggerMessage(EventId = 6116, Level = LogLevel.Error, Message = "Replica {Id} failed: the agent could not go on running it")]
    public static partial void ReplicaRunnerFailed(ILogger logger, string id, Exception exception);

    [LoggerMessage(EventId = 6117, Level = LogLevel.Warning, Message = "Replica {Id}'s task was lost ({Reason}): starting it again")]
    public static partial void ReplicaLost(ILogger logger, string id, string reason);

    [LoggerMessage(EventId = 6118, Level = LogLevel.Information, Message = "Replica {Id} stopped: no longer assigned to this node (pid {Pid}, gone {ElapsedMs:0} ms after the stop was sent)")]
    public static partial void ReplicaRemoved(ILogger logger, string id, int pid, double elapsedMs);

    [LoggerMessage(EventId = 6119, Level = LogLevel.Information, Message = "Replica {Id} is healthy: {Reason}")]
    public static partial void ReplicaHealthy(ILogger logger, string id, string reason);

    [LoggerMessage(EventId = 6120, Level = LogLevel.Warning, Message = "Replica {Id} is unhealthy: {Reason}")]
    public static partial void ReplicaUnhealthy(ILogger logger, string id, string reason);

    [LoggerMessage(EventId = 6130, Level = LogLevel.Warning, Message = "Fence stop sent to replica {Id} (pid {Pid}): {Reason}")]
    public static partial void FenceStopSent(ILogger logger, string id, int pid, string reason);

    [LoggerMessage(EventId = 6131, Level = LogLevel.Warning, Message = "Fenced replica {Id} (pid {Pid}) is gone, {ElapsedMs:0} ms after the fence stop was sent; it starts again only if a server still assigns it here")]
    public static partial void FenceStopDone(ILogger logger, string id, int pid, double elapsedMs);

    [LoggerMessage(EventId = 6140, Level = LogLevel.Information, Message = "Supervisor pid {Pid} (instance {Instance}, version {Version}) answers on {Socket}")]
    public static partial void SupervisorAttached(ILogger logger, int pid, string instance, string version, string socket);

    [LoggerMessage(EventId = 6141, Level = LogLevel.Information, Message = "No supervisor answered on {Socket}: started one (its output goes to {Output})")]
    public static partial void SupervisorLaunched(ILogger logger, string socket, string output);

    [LoggerMessage(EventId = 6142, Level = LogLevel.Warning, Message = "Supervisor lost: pid {Pid} (instance {Instance}) no longer answers on {Socket}; its tasks died with it")]
    public static partial void SupervisorLost(ILogger logger, int pid, string instance, string socket);

    [LoggerMessage(EventId = 6143, Level = LogLevel.Warning, Message = "Supervisor reattached: pid {Pid} (instance {Instance}) replaces pid {PreviousPid}; the replicas that ran under the old one are started again")]
    public static partial void SupervisorReplaced(ILogger logger, int pid, string instance, int previousPid);

    [LoggerMessage(EventId = 6144, Level = LogLevel.Warning, Message = "No supervisor answers and none could be started: {Error}; trying again every {IntervalSeconds:0.###} s (logged again once one answers)")]
    public static partial void SupervisorUnavailable(ILogger logger, string error, double intervalSeconds);
}
