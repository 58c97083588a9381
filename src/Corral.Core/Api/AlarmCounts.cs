namespace Corral.Core.Api;

/// <summary>Active alarms by severity (in GET /v1/status).</summary>
public sealed record AlarmCounts(int Critical, int Warning, int Info)
{
    /// <summary>Counts the active alarms among <paramref name="alarms"/>.</summary>
    public static AlarmCounts Of(IEnumerable<Alarm> alarms)
    {
        ArgumentNullException.ThrowIfNull(alarms);
        int critical = 0, warning = 0, info = 0;
        foreach (var alarm in alarms.Where(a => a.Active))
        {
            switch (alarm.Severity)
            {
                case AlarmSeverity.Critical: critical++; break;
                case AlarmSeverity.Warning: warning++; break;
                default: info++; break;
            }
        }
        return new AlarmCounts(critical, warning, info);
    }
}
