namespace Corral.Server.Monitoring;

/// <summary>The alarm webhook: every alarm raised or cleared is POSTed as JSON (<c>AlarmNotification</c>).</summary>
public sealed record WebhookOptions
{
    /// <summary>An <c>http://</c> or <c>https://</c> URL.</summary>
    public required Uri Url { get; init; }

    /// <value>Timeout of one POST. Default 5 s.</value>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <value>Attempts per notification before it is dropped (logged). Default 5.</value>
    public int MaxAttempts { get; init; } = 5;

    /// <value>Delay before the second attempt; doubled for each further one, at most 1 min. Default 1 s.</value>
    public TimeSpan Backoff { get; init; } = TimeSpan.FromSeconds(1);

    /// <value>Notifications waiting to be sent; when full the oldest is dropped (logged), the monitor never waits. Default 1,000.</value>
    public int QueueLength { get; init; } = 1000;
}
