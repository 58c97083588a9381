using Microsoft.Extensions.Logging;

namespace Corral.Agent.ControlPlane;

/// <summary>Log messages of the agent's server connection and its singleton fence: EventIds 6000–6099.</summary>
internal static partial class ServerConnectionLog
{
    [LoggerMessage(EventId = 6000, Level = LogLevel.Warning, Message = "Heartbeat failed unexpectedly, retrying")]
    public static partial void HeartbeatFailedUnexpectedly(ILogger logger, Exception exception);
}
