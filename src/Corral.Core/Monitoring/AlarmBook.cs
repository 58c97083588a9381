using Corral.Core.Api;

namespace Corral.Core.Monitoring;

/// <summary>
/// Turns the conditions that hold now into alarm changes against the stored alarms: raise what is new (once it has
/// held for its <see cref="AlarmCondition.HoldFor"/>), clear what no longer holds, refresh last-seen at most every
/// <see cref="LastSeenResolution"/> (so a steady alarm costs no store write per pass). No I/O; keeps in memory only
/// when each pending condition was first seen. Not thread-safe: one monitor owns one book.
/// </summary>
public sealed class AlarmBook
{
    private readonly Dictionary<string, DateTimeOffset> _pending = new(StringComparer.Ordinal);

    /// <value>How stale a stored active alarm's last-seen may get before it is refreshed. Default 30 s.</value>
    public TimeSpan LastSeenResolution { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Forgets pending conditions (a new leadership term starts from the store).</summary>
    public void Reset() => _pending.Clear();

    /// <summary>The changes that make <paramref name="stored"/> (by id) match <paramref name="conditions"/> at <paramref name="now"/>.</summary>
    public AlarmChanges Apply(IReadOnlyDictionary<string, Alarm> stored, IReadOnlyList<AlarmCondition> conditions, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(stored);
        ArgumentNullException.ThrowIfNull(conditions);
        var raised = new List<Alarm>();
        var cleared = new List<Alarm>();
        var updated = new List<Alarm>();
        var holding = new HashSet<string>(StringComparer.Ordinal);
        foreach (var condition in conditions)
        {
            var id = condition.Id;
            if (!holding.Add(id))
            {
                continue;
            }
            stored.TryGetValue(id, out var existing);
            if (existing is { Active: true })
            {
                _pending.Remove(id);
                if (existing.Message != condition.Message || existing.Severity != condition.Severity || now - existing.LastSeen >= LastSeenResolution)
                {
                    updated.Add(existing with { Message = condition.Message, Severity = condition.Severity, LastSeen = now });
                }
                continue;
            }
            if (!_pending.TryGetValue(id, out var since))
            {
                since = now;
                _pending[id] = since;
            }
            if (now - since < condition.HoldFor)
            {
                continue;
            }
            _pending.Remove(id);
            raised.Add(new Alarm(id, condition.Kind, condition.Severity, condition.Subject, condition.Message, since, now, Active: true));
        }
        foreach (var id in _pending.Keys.Where(id => !holding.Contains(id)).ToList())
        {
            _pending.Remove(id);
        }
        foreach (var alarm in stored.Values.Where(a => a.Active && !holding.Contains(a.Id)))
        {
            cleared.Add(alarm with { Active = false, LastSeen = now });
        }
        return new AlarmChanges(raised, cleared, updated);
    }
}
