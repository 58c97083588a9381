using Corral.Core.Monitoring;

namespace Corral.Server.Monitoring;

/// <summary>
/// Settings of the health monitor, read from <c>DATA-DIR/monitor.json</c> when it exists (see docs/alarms.md);
/// every field is optional.
/// </summary>
public sealed record MonitorOptions
{
    /// <summary>The file name inside the server's data directory.</summary>
    public const string FileName = "monitor.json";

    /// <value>How often the monitor evaluates the cluster. 100 ms to 1 min. Default 2 s.</value>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(2);

    /// <value>Thresholds of the alarm rules (disk, certificates, crash loops, degraded services).</value>
    public MonitorThresholds Thresholds { get; init; } = new();

    /// <value>Restarts are counted within this window for the crash-loop alarm. 1 s to 1 h. Default 5 min.</value>
    public TimeSpan CrashLoopWindow { get; init; } = TimeSpan.FromMinutes(5);

    /// <value>A steady alarm's last-seen is refreshed in the store at most this often. 1 s to 10 min. Default 30 s.</value>
    public TimeSpan LastSeenResolution { get; init; } = TimeSpan.FromSeconds(30);

    /// <value>Cleared alarms are kept this long for <c>corral alarms ls --all</c>, then deleted. Default 7 days.</value>
    public TimeSpan ClearedRetention { get; init; } = TimeSpan.FromDays(7);

    /// <value>The alarm webhook, or null.</value>
    public WebhookOptions? Webhook { get; init; }

    /// <value>The alarm exec hook, or null.</value>
    public ExecHookOptions? Exec { get; init; }

    /// <summary>The defaults.</summary>
    public static MonitorOptions Default { get; } = new();

    /// <summary>Every problem, each naming its field (as in monitor.json); empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Interval < TimeSpan.FromMilliseconds(100) || Interval > TimeSpan.FromMinutes(1))
        {
            errors.Add("interval: must be from 100ms to 1m");
        }
        if (Thresholds.DiskThresholdPercent is <= 0 or > 100 || double.IsNaN(Thresholds.DiskThresholdPercent))
        {
            errors.Add($"disk_threshold_percent: {Thresholds.DiskThresholdPercent} must be above 0 and at most 100");
        }
        if (Thresholds.CertExpiryWarning < TimeSpan.Zero)
        {
            errors.Add("cert_expiry_warning: must not be negative");
        }
        if (Thresholds.CrashLoopRestarts < 1)
        {
            errors.Add($"crash_loop_restarts: {Thresholds.CrashLoopRestarts} must be 1 or more");
        }
        if (Thresholds.DegradedAfter < TimeSpan.Zero || Thresholds.DegradedAfter > TimeSpan.FromHours(1))
        {
            errors.Add("degraded_after: must be from 0s to 1h");
        }
        if (CrashLoopWindow < TimeSpan.FromSeconds(1) || CrashLoopWindow > TimeSpan.FromHours(1))
        {
            errors.Add("crash_loop_window: must be from 1s to 1h");
        }
        if (LastSeenResolution < TimeSpan.FromSeconds(1) || LastSeenResolution > TimeSpan.FromMinutes(10))
        {
            errors.Add("last_seen_resolution: must be from 1s to 10m");
        }
        if (ClearedRetention < TimeSpan.FromMinutes(1))
        {
            errors.Add("cleared_retention: must be 1m or more");
        }
        if (Webhook is { } webhook)
        {
            if (!webhook.Url.IsAbsoluteUri || webhook.Url.Scheme is not ("http" or "https"))
            {
                errors.Add($"webhook.url: '{webhook.Url}' must be an absolute http:// or https:// URL");
            }
            if (webhook.Timeout <= TimeSpan.Zero || webhook.Timeout > TimeSpan.FromMinutes(1))
            {
                errors.Add("webhook.timeout: must be above 0 and at most 1m");
            }
            if (webhook.MaxAttempts is < 1 or > 100)
            {
                errors.Add($"webhook.max_attempts: {webhook.MaxAttempts} must be from 1 to 100");
            }
            if (webhook.Backoff < TimeSpan.Zero || webhook.Backoff > TimeSpan.FromMinutes(1))
            {
                errors.Add("webhook.backoff: must be from 0s to 1m");
            }
            if (webhook.QueueLength is < 1 or > 100_000)
            {
                errors.Add($"webhook.queue_length: {webhook.QueueLength} must be from 1 to 100000");
            }
        }
        if (Exec is { } exec)
        {
            if (string.IsNullOrWhiteSpace(exec.Command))
            {
                errors.Add("exec.command: must not be empty");
            }
            if (exec.Timeout <= TimeSpan.Zero || exec.Timeout > TimeSpan.FromMinutes(10))
            {
                errors.Add("exec.timeout: must be above 0 and at most 10m");
            }
            if (exec.QueueLength is < 1 or > 100_000)
            {
                errors.Add($"exec.queue_length: {exec.QueueLength} must be from 1 to 100000");
            }
        }
        return errors;
    }
}
