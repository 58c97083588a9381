namespace Corral.Server.Monitoring;

/// <summary>
/// The alarm exec hook: a program run for every alarm raised or cleared, with the alarm in environment variables
/// (<c>CORRAL_ALARM_EVENT</c>, <c>CORRAL_ALARM_ID</c>, <c>_KIND</c>, <c>_SEVERITY</c>, <c>_SUBJECT</c>, <c>_MESSAGE</c>,
/// <c>_FIRST_SEEN</c>, <c>_LAST_SEEN</c>) and as JSON on its stdin. One runs at a time.
/// </summary>
public sealed record ExecHookOptions
{
    /// <summary>The program (absolute path, or found on PATH).</summary>
    public required string Command { get; init; }

    /// <value>Its arguments. Default none.</value>
    public IReadOnlyList<string> Args { get; init; } = [];

    /// <value>A run longer than this is killed (with its process tree). Default 10 s.</value>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <value>Notifications waiting to be run; when full the oldest is dropped (logged). Default 1,000.</value>
    public int QueueLength { get; init; } = 1000;
}
