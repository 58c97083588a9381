using Microsoft.Extensions.Logging;

namespace Corral.Server.Monitoring;

/// <summary>Log messages of the monitor and the alarm sinks (event ids 4800–4899).</summary>
internal static partial class MonitorLog
{
    [LoggerMessage(EventId = 4800, Level = LogLevel.Warning, Message = "Alarm raised: {Id} ({Severity}) {Message}")]
    public static partial void Raised(ILogger logger, string id, string severity, string message);

    [LoggerMessage(EventId = 4801, Level = LogLevel.Information, Message = "Alarm cleared: {Id}")]
    public static partial void Cleared(ILogger logger, string id);

    [LoggerMessage(EventId = 4802, Level = LogLevel.Warning, Message = "Monitor pass failed; trying again at the next interval")]
    public static partial void PassFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 4803, Level = LogLevel.Warning, Message = "Alarm webhook {Url}: attempt {Attempt} of {MaxAttempts} for {Event} {Id} failed: {Error}")]
    public static partial void WebhookFailed(ILogger logger, Uri url, int attempt, int maxAttempts, string @event, string id, string error);

    [LoggerMessage(EventId = 4804, Level = LogLevel.Error, Message = "Alarm webhook {Url}: gave up on {Event} {Id}")]
    public static partial void WebhookGaveUp(ILogger logger, Uri url, string @event, string id);

    [LoggerMessage(EventId = 4805, Level = LogLevel.Error, Message = "Alarm sink {Sink}: queue full, dropped {Event} {Id}")]
    public static partial void Dropped(ILogger logger, string sink, string @event, string id);

    [LoggerMessage(EventId = 4806, Level = LogLevel.Warning, Message = "Alarm exec hook {Command} for {Event} {Id}: {Outcome}")]
    public static partial void ExecFailed(ILogger logger, string command, string @event, string id, string outcome);

    [LoggerMessage(EventId = 4807, Level = LogLevel.Warning, Message = "Monitor changes refused: this server no longer leads, or an alarm changed under it")]
    public static partial void CommitRefused(ILogger logger);
}
