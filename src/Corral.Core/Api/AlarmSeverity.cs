namespace Corral.Core.Api;

/// <summary>How urgent an alarm is. On the wire: <c>critical</c>, <c>warning</c>, <c>info</c>.</summary>
public enum AlarmSeverity
{
    /// <summary>Something is broken or about to lose data or availability: act now.</summary>
    Critical,

    /// <summary>Degraded, or one step from broken: act soon.</summary>
    Warning,

    /// <summary>Worth knowing; no action needed yet.</summary>
    Info,
}
