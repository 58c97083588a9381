namespace Corral.Core.Api;

/// <summary>
/// A condition the monitor raised (GET /v1/alarms; stored under <c>/corral/alarms/ID</c>). The id is stable for a
/// kind and subject: an alarm that clears and comes back is the same alarm raised again (new first-seen, ack reset).
/// </summary>
/// <param name="Id">Stable id, <c>KIND.SUBJECT</c> with '/' as '.', e.g. <c>node.down.node.a</c>.</param>
/// <param name="Kind">What is wrong, e.g. <c>node.down</c>, <c>service.degraded</c> (see docs/alarms.md).</param>
/// <param name="Severity">How urgent.</param>
/// <param name="Subject">What it is about: <c>node/a</c>, <c>service/web</c>, <c>replica/web-1f2e</c>, <c>store</c>, <c>store/s1</c>, <c>cert/ca</c>.</param>
/// <param name="Message">What is wrong and what to do.</param>
/// <param name="FirstSeen">When the condition was first seen (this time it was raised).</param>
/// <param name="LastSeen">When the monitor last saw it hold (refreshed at most every <c>last_seen_resolution</c>), or when it cleared.</param>
/// <param name="Active">True while the condition holds; false once it cleared (kept for history).</param>
/// <param name="Acknowledged">True once an operator acknowledged it (it stays active until the condition clears).</param>
/// <param name="AcknowledgedBy">Who acknowledged it (<c>key:NAME</c>).</param>
/// <param name="AcknowledgedAt">When.</param>
public sealed record Alarm(
    string Id,
    string Kind,
    AlarmSeverity Severity,
    string Subject,
    string Message,
    DateTimeOffset FirstSeen,
    DateTimeOffset LastSeen,
    bool Active,
    bool Acknowledged = false,
    string? AcknowledgedBy = null,
    DateTimeOffset? AcknowledgedAt = null);
