using Microsoft.Extensions.Logging;

namespace Corral.Agent.ControlPlane;

/// <summary>Log messages of the agent's server connection and its singleton fence: EventIds 6000–6099.</summary>
internal static partial class ServerConnectionLog
{
    [LoggerMessage(EventId = 6000, Level = LogLevel.Warning, Message = "Heartbeat failed unexpectedly, retrying")]
    public static partial void HeartbeatFailedUnexpectedly(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 6001, Level = LogLevel.Warning, Message = "Heartbeat to {Server} failed after {Elapsed} ({Reason}); sending it to {Next}")]
    public static partial void HeartbeatFailed(ILogger logger, Uri server, TimeSpan elapsed, string reason, Uri next);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Debug, Message = "Heartbeat to {Server} failed after {Elapsed} ({Reason}), {Failures} in a row; sending it to {Next}")]
    public static partial void HeartbeatFailedAgain(ILogger logger, Uri server, TimeSpan elapsed, string reason, int failures, Uri next);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Information, Message = "Heartbeat acknowledged by {Server} (before: {Previous}), on record with the node ready; {Silence} since the last one that counted for the fence")]
    public static partial void ContactRegained(ILogger logger, Uri server, string previous, TimeSpan silence);

    [LoggerMessage(EventId = 6004, Level = LogLevel.Warning, Message = "Heartbeat acknowledged by {Server}, but this node is down in the store (revision {Revision}): it does not count as contact for the singleton fence until the leader marks the node up ({Silence} since the last one that did)")]
    public static partial void AcknowledgedWhileDown(ILogger logger, Uri server, long revision, TimeSpan silence);

    [LoggerMessage(EventId = 6005, Level = LogLevel.Information, Message = "Fence armed for singleton {Replica}: fence_after {FenceAfter}; it is stopped at {Deadline:O} unless a heartbeat is acknowledged before")]
    public static partial void FenceArmed(ILogger logger, string replica, TimeSpan fenceAfter, DateTimeOffset deadline);

    [LoggerMessage(EventId = 6006, Level = LogLevel.Warning, Message = "Fence fired for singleton {Replica}: no heartbeat acknowledged for {Silence} (fence_after {FenceAfter}); stop sent")]
    public static partial void FenceFired(ILogger logger, string replica, TimeSpan silence, TimeSpan fenceAfter);

    [LoggerMessage(EventId = 6007, Level = LogLevel.Warning, Message = "Fenced singleton {Replica} stopped: its process is gone, {Elapsed} after the fence fired")]
    public static partial void FenceStopped(ILogger logger, string replica, TimeSpan elapsed);

    [LoggerMessage(EventId = 6008, Level = LogLevel.Information, Message = "Not starting singleton(s) {Replicas}: the assignments at revision {Index} show this node down in the store, and the leader may still replace them elsewhere; waiting for the node to be marked up")]
    public static partial void HeldForNodeReady(ILogger logger, string replicas, long index);

    [LoggerMessage(EventId = 6009, Level = LogLevel.Information, Message = "Fenced singleton {Replica} is assigned here again at revision {Index}, with this node up in the store: starting it")]
    public static partial void FencedSingletonAssignedAgain(ILogger logger, string replica, long index);

    [LoggerMessage(EventId = 6010, Level = LogLevel.Warning, Message = "Could not keep the last contact in {Path} ({Error}); a restart would fence singletons from an older contact")]
    public static partial void LastContactNotWritten(ILogger logger, string path, string error);

    [LoggerMessage(EventId = 6011, Level = LogLevel.Debug, Message = "Fence renewed for singleton {Replica}: the agent stops it at {AgentDeadline:O}, its supervisor at {SupervisorDeadline:O}, unless a heartbeat is acknowledged before")]
    public static partial void FenceRenewed(ILogger logger, string replica, DateTimeOffset agentDeadline, DateTimeOffset supervisorDeadline);
}
