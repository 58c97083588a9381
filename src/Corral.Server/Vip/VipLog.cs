using Corral.Server.Leadership;

namespace Corral.Server.Vip;

/// <summary>Log messages of the virtual IP manager (event ids 4800–4899).</summary>
internal static partial class VipLog
{
    [LoggerMessage(EventId = 4800, Level = LogLevel.Information, Message = "VIP {Cidr} added on {Interface} ({Term})")]
    public static partial void Added(ILogger logger, string cidr, string @interface, LeadershipTerm term);

    [LoggerMessage(EventId = 4801, Level = LogLevel.Information, Message = "VIP {Cidr} removed from {Interface}: {Reason}")]
    public static partial void Removed(ILogger logger, string cidr, string @interface, string reason);

    [LoggerMessage(EventId = 4802, Level = LogLevel.Error, Message = "Could not add VIP {Cidr} on {Interface}")]
    public static partial void AddFailed(ILogger logger, string cidr, string @interface, Exception exception);

    [LoggerMessage(EventId = 4803, Level = LogLevel.Critical, Message = "Could not remove VIP {Cidr} from {Interface}")]
    public static partial void RemoveFailed(ILogger logger, string cidr, string @interface, Exception exception);

    [LoggerMessage(EventId = 4804, Level = LogLevel.Information, Message = "Sent {Count} gratuitous ARP for {Address} on {Interface}: {Why}")]
    public static partial void GratuitousArp(ILogger logger, int count, string address, string @interface, string why);

    [LoggerMessage(EventId = 4805, Level = LogLevel.Warning, Message = "Could not send gratuitous ARP on {Interface}")]
    public static partial void GratuitousArpFailed(ILogger logger, string @interface, Exception exception);

    [LoggerMessage(EventId = 4806, Level = LogLevel.Information, Message = "Leadership re-confirmed after {Failures} failed confirmations ({Term})")]
    public static partial void Reconfirmed(ILogger logger, int failures, LeadershipTerm term);

    [LoggerMessage(EventId = 4807, Level = LogLevel.Information, Message = "Notify hook: {Description}")]
    public static partial void HookRan(ILogger logger, string description);

    [LoggerMessage(EventId = 4808, Level = LogLevel.Warning, Message = "Removed VIP {Cidr} left on {Interface} by an earlier run")]
    public static partial void RemovedStale(ILogger logger, string cidr, string @interface);

    [LoggerMessage(EventId = 4809, Level = LogLevel.Warning, Message = "Could not record event {Kind}")]
    public static partial void EventFailed(ILogger logger, string kind, Exception exception);
}
