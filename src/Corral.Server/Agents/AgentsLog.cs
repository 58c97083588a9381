using Microsoft.Extensions.Logging;

namespace Corral.Server.Agents;

/// <summary>Log messages of the agent endpoints and the assignment tracker (event ids 4700–4799).</summary>
internal static partial class AgentsLog
{
    [LoggerMessage(EventId = 4700, Level = LogLevel.Information, Message = "Assignment tracker loaded {Replicas} replicas at revision {Revision}")]
    public static partial void TrackerLoaded(ILogger logger, int replicas, long revision);

    [LoggerMessage(EventId = 4701, Level = LogLevel.Warning, Message = "Assignment tracker watch failed; loading again")]
    public static partial void TrackerWatchFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 4702, Level = LogLevel.Warning, Message = "Replica {Replica} of service {Service} runs version {Version}, whose spec is unknown; it is left out of node {Node}'s assignments")]
    public static partial void UnknownVersion(ILogger logger, string replica, string service, string version, string node);

    [LoggerMessage(EventId = 4703, Level = LogLevel.Information, Message = "Node {Node} registered")]
    public static partial void NodeRegistered(ILogger logger, string node);

    [LoggerMessage(EventId = 4704, Level = LogLevel.Warning, Message = "Replica reports of node {Node} kept conflicting with other writes; {Count} not recorded this time")]
    public static partial void ReportsConflict(ILogger logger, string node, int count);
}
