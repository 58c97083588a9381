namespace Corral.Core.Api;

/// <summary>What the alarm sinks receive: the webhook's POST body and the exec hook's stdin (JSON).</summary>
/// <param name="Event"><c>alarm.raised</c> or <c>alarm.cleared</c>.</param>
/// <param name="Alarm">The alarm after the change.</param>
/// <param name="Server">The server (leader) that noticed it.</param>
/// <param name="Time">When.</param>
public sealed record AlarmNotification(string Event, Alarm Alarm, string Server, DateTimeOffset Time);
