namespace Corral.Core.Api;

/// <summary>How urgent an alarm is. On the wire: <c>critical</c>, <c>warning</c>, <c>info</c>.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(EnumJsonConverter<AlarmSeverity>))]
public enum AlarmSeverity
{
    /// <summary>Something is broken or about to lose data or availability: act now.</summary>
    [System.Text.Json.Serialization.JsonStringEnumMemberName("critical")]
    Critical,

    /// <summary>Degraded, or one step from broken: act soon.</summary>
    [System.Text.Json.Serialization.JsonStringEnumMemberName("warning")]
    Warning,

    /// <summary>Worth knowing; no action needed yet.</summary>
    [System.Text.Json.Serialization.JsonStringEnumMemberName("info")]
    Info,
}
