using Microsoft.Extensions.Logging;

namespace Corral.Server.Leadership;

/// <summary>Log messages of leader election and the leader-only controller lifecycle (event ids 4500–4599).</summary>
internal static partial class LeadershipLog
{
    [LoggerMessage(EventId = 4500, Level = LogLevel.Information, Message = "{Server} leads the control plane ({Term})")]
    public static partial void Elected(ILogger logger, string server, LeadershipTerm term);

    [LoggerMessage(EventId = 4501, Level = LogLevel.Warning, Message = "{Server} no longer leads ({Term}): {Reason}")]
    public static partial void Lost(ILogger logger, string server, LeadershipTerm term, string reason);

    [LoggerMessage(EventId = 4502, Level = LogLevel.Warning, Message = "Campaign for leadership failed; retrying in {Delay}")]
    public static partial void CampaignFailed(ILogger logger, TimeSpan delay, Exception exception);

    [LoggerMessage(EventId = 4503, Level = LogLevel.Error, Message = "Controller {Controller} failed to establish leadership ({Term}); resigning")]
    public static partial void EstablishFailed(ILogger logger, string controller, LeadershipTerm term, Exception exception);

    [LoggerMessage(EventId = 4504, Level = LogLevel.Error, Message = "Controller {Controller} failed; restarting it in {Delay}")]
    public static partial void ControllerFailed(ILogger logger, string controller, TimeSpan delay, Exception exception);

    [LoggerMessage(EventId = 4505, Level = LogLevel.Warning, Message = "Controller {Controller} failed to revoke leadership")]
    public static partial void RevokeFailed(ILogger logger, string controller, Exception exception);

    [LoggerMessage(EventId = 4506, Level = LogLevel.Warning, Message = "Could not record leadership event {Kind}")]
    public static partial void EventFailed(ILogger logger, string kind, Exception exception);

    [LoggerMessage(EventId = 4510, Level = LogLevel.Information, Message = "etcd leader moved from member {From} to {To}: {Why}")]
    public static partial void EtcdLeaderMoved(ILogger logger, string from, string to, string why);

    [LoggerMessage(EventId = 4511, Level = LogLevel.Warning, Message = "etcd leader placement: {What}")]
    public static partial void EtcdPlacementSkipped(ILogger logger, string what);

    [LoggerMessage(EventId = 4512, Level = LogLevel.Warning, Message = "etcd leader placement pass failed")]
    public static partial void EtcdPlacementFailed(ILogger logger, Exception exception);
}
