namespace Corral.Core.Monitoring;

/// <summary>Thresholds of the alarm rules.</summary>
public sealed record MonitorThresholds
{
    /// <value>A node whose data-dir file system is used above this percentage raises <c>node.disk_full</c>. 1–100. Default 90.</value>
    public double DiskThresholdPercent { get; init; } = 90;

    /// <value>A certificate expiring within this raises <c>cert.expiring</c>. Default 14 days.</value>
    public TimeSpan CertExpiryWarning { get; init; } = TimeSpan.FromDays(14);

    /// <value>A replica restarted at least this often within the crash-loop window raises <c>replica.crash_loop</c>. Default 3.</value>
    public int CrashLoopRestarts { get; init; } = 3;

    /// <value>A service must stay below its desired healthy replicas this long before <c>service.degraded</c> is raised (a deploy or a restart is not an alarm). Default 30 s.</value>
    public TimeSpan DegradedAfter { get; init; } = TimeSpan.FromSeconds(30);
}
