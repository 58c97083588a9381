using Corral.Core.Api;

namespace Corral.Core.Monitoring;

/// <summary>What one pass of <see cref="AlarmBook.Apply"/> changes: the new value of each alarm to write.</summary>
/// <param name="Raised">New alarms, and cleared ones raised again.</param>
/// <param name="Cleared">Active alarms whose condition no longer holds (now inactive).</param>
/// <param name="Updated">Active alarms with a new message or severity, or a last-seen refresh due.</param>
public sealed record AlarmChanges(IReadOnlyList<Alarm> Raised, IReadOnlyList<Alarm> Cleared, IReadOnlyList<Alarm> Updated)
{
    public bool IsEmpty => Raised.Count == 0 && Cleared.Count == 0 && Updated.Count == 0;
}
