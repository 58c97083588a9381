using Corral.Server.Leadership;

namespace Corral.Server.Vip;

/// <summary>Log messages of the virtual IP manager (event ids 4800–4899).</summary>
internal static partial class VipLog
{
    [LoggerMessage(EventId = 4800, Level = LogLevel.Information, Message = "VIP {Cidr} added on {Interface} ({Term}), {Lifetime}")]
    public static partial void Added(ILogger logger, string cidr, string @interface, LeadershipTerm term, string lifetime);

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

    [LoggerMessage(EventId = 4810, Level = LogLevel.Warning, Message = "VIP {Cidr} re-added on {Interface} ({Term}): no lease renewal was acknowledged soon enough to extend its kernel lifetime, which may have run out for a moment")]
    public static partial void Readded(ILogger logger, string cidr, string @interface, LeadershipTerm term);

    [LoggerMessage(EventId = 4811, Level = LogLevel.Warning, Message = "VIP {Cidr} removed from {Interface} right after renewing it ({Term}): the renewal reached the kernel so late (this process was held up) that a lifetime of {Lifetime} could outlast the term's step-down deadline {Deadline:O}; the next acknowledged renewal adds it again")]
    public static partial void RemovedLate(ILogger logger, string cidr, string @interface, LeadershipTerm term, string lifetime, DateTimeOffset deadline);

    [LoggerMessage(EventId = 4812, Level = LogLevel.Error, Message = "Could not renew the kernel lifetime of VIP {Cidr} on {Interface}: the address runs out unless a later renewal succeeds")]
    public static partial void RenewFailed(ILogger logger, string cidr, string @interface, Exception exception);

    [LoggerMessage(EventId = 4813, Level = LogLevel.Information, Message = "Renewing the kernel lifetime of VIP {Cidr} on {Interface} works again")]
    public static partial void RenewRecovered(ILogger logger, string cidr, string @interface);

    [LoggerMessage(EventId = 4814, Level = LogLevel.Warning, Message = "VIP {Cidr} is added without a kernel lifetime: lease TTL {Ttl} minus step-down margin {Margin} is less than {Needed} (a 1 s lifetime plus the kernel's lateness in deleting it), so a leader whose process freezes keeps the address until it runs again. The default timing (--timing default: lease 2 s, margin 500 ms) protects against that")]
    public static partial void NoLifetime(ILogger logger, string cidr, string ttl, string margin, string needed);

    [LoggerMessage(EventId = 4815, Level = LogLevel.Information, Message = "VIP {Cidr} not added yet ({Term}): the term's step-down deadline is only {Left} away, too close for a kernel lifetime of 1 s; the next acknowledged lease renewal adds it")]
    public static partial void AddDeferred(ILogger logger, string cidr, LeadershipTerm term, string left);
}
