using Microsoft.Extensions.Logging;

namespace Corral.Agent.Supervisor;

/// <summary>
/// Log messages of the node supervisor: EventIds 6200–6299. Task lifecycle 6200–6209, fences 6210–6229, recovery
/// 6230–6239. Fence decisions are logged so that a singleton stopped on a node explains itself from that node's log.
/// </summary>
internal static partial class SupervisorLog
{
    [LoggerMessage(EventId = 6200, Level = LogLevel.Information, Message = "Task {Id} started: pid {Pid}, run {Generation}, as user {User}{LimitsNote}")]
    public static partial void TaskStarted(ILogger logger, string id, int pid, long generation, string user, string limitsNote);

    [LoggerMessage(EventId = 6201, Level = LogLevel.Warning, Message = "Task {Id} could not start (run {Generation}): {Error}")]
    public static partial void TaskStartFailed(ILogger logger, string id, long generation, string error);

    [LoggerMessage(EventId = 6202, Level = LogLevel.Information, Message = "Task {Id} (pid {Pid}) exited with code {ExitCode}")]
    public static partial void TaskExited(ILogger logger, string id, int pid, int exitCode);

    [LoggerMessage(EventId = 6203, Level = LogLevel.Information, Message = "Task {Id} (pid {Pid}) was ended by signal {Signal} (exit code {ExitCode})")]
    public static partial void TaskSignalled(ILogger logger, string id, int pid, string signal, int exitCode);

    [LoggerMessage(EventId = 6204, Level = LogLevel.Information, Message = "Stopping task {Id} (pid {Pid}): {Signal} sent to its process group; SIGKILL if it has not exited within {TimeoutSeconds:0.###} s")]
    public static partial void StopRequested(ILogger logger, string id, int pid, string signal, double timeoutSeconds);

    [LoggerMessage(EventId = 6205, Level = LogLevel.Warning, Message = "Task {Id} (pid {Pid}) did not exit within {TimeoutSeconds:0.###} s of {Signal}: SIGKILL sent to its process group and cgroup")]
    public static partial void StopTimedOut(ILogger logger, string id, int pid, double timeoutSeconds, string signal);

    [LoggerMessage(EventId = 6206, Level = LogLevel.Information, Message = "Task {Id} (pid {Pid}) is gone, {ElapsedMs:0} ms after the stop was sent")]
    public static partial void TaskGone(ILogger logger, string id, int pid, double elapsedMs);

    [LoggerMessage(EventId = 6210, Level = LogLevel.Information, Message = "Fence armed on task {Id}: it is stopped unless the fence is renewed by {Deadline:yyyy-MM-ddTHH:mm:ss.fffZ} (within {WithinSeconds:0.###} s)")]
    public static partial void FenceArmed(ILogger logger, string id, DateTimeOffset deadline, double withinSeconds);

    [LoggerMessage(EventId = 6211, Level = LogLevel.Information, Message = "Fence on task {Id} renewed for the first time since it was armed: deadline now {Deadline:yyyy-MM-ddTHH:mm:ss.fffZ}; later renewals are summed up at most once a minute")]
    public static partial void FenceFirstRenewal(ILogger logger, string id, DateTimeOffset deadline);

    [LoggerMessage(EventId = 6212, Level = LogLevel.Debug, Message = "Fence on task {Id} renewed: deadline {Deadline:yyyy-MM-ddTHH:mm:ss.fffZ}")]
    public static partial void FenceRenewed(ILogger logger, string id, DateTimeOffset deadline);

    [LoggerMessage(EventId = 6213, Level = LogLevel.Information, Message = "Fence on task {Id} renewed {Count} times in the last {PeriodSeconds:0} s: deadline now {Deadline:yyyy-MM-ddTHH:mm:ss.fffZ}")]
    public static partial void FenceRenewals(ILogger logger, string id, int count, double periodSeconds, DateTimeOffset deadline);

    [LoggerMessage(EventId = 6214, Level = LogLevel.Information, Message = "Fence on task {Id} cleared: the task is no longer stopped for want of renewal")]
    public static partial void FenceCleared(ILogger logger, string id);

    [LoggerMessage(EventId = 6215, Level = LogLevel.Warning, Message = "Fence on task {Id} fired: not renewed by its deadline {Deadline:yyyy-MM-ddTHH:mm:ss.fffZ}; the task is stopped and its start refused until the fence is renewed")]
    public static partial void FenceFired(ILogger logger, string id, DateTimeOffset deadline);

    [LoggerMessage(EventId = 6216, Level = LogLevel.Warning, Message = "Fence stop sent to task {Id} (pid {Pid}): {Signal} to its process group; SIGKILL if it has not exited within {TimeoutSeconds:0.###} s")]
    public static partial void FenceStopSent(ILogger logger, string id, int pid, string signal, double timeoutSeconds);

    [LoggerMessage(EventId = 6217, Level = LogLevel.Warning, Message = "Fenced task {Id} (pid {Pid}) is gone, {ElapsedMs:0} ms after the fence stop was sent")]
    public static partial void FenceProcessGone(ILogger logger, string id, int pid, double elapsedMs);

    [LoggerMessage(EventId = 6218, Level = LogLevel.Information, Message = "Fence on task {Id} fired while the task was not running ({State}): nothing to stop")]
    public static partial void FenceFiredIdle(ILogger logger, string id, SupervisedTaskState? state);

    [LoggerMessage(EventId = 6219, Level = LogLevel.Warning, Message = "Start of task {Id} refused: its fence fired and has not been renewed")]
    public static partial void FencedStartRefused(ILogger logger, string id);

    [LoggerMessage(EventId = 6230, Level = LogLevel.Warning, Message = "Task {Id} (pid {Pid}) was left by a supervisor that died: its processes were killed and it is marked lost")]
    public static partial void LeftoverKilled(ILogger logger, string id, int pid);
}
