namespace Corral.Core.Api;

/// <summary>
/// Which events a reader wants (<c>GET /v1/events?type=&amp;service=&amp;node=</c>, <c>corral events --type --service
/// --node</c>). Every given part must match; an empty filter matches every event.
/// </summary>
/// <param name="Types">
/// Event kinds; an event matches when its kind equals one of them or starts with one of them followed by a dot
/// (<c>replica</c> matches <c>replica.failed</c> and <c>replica.placed</c>; <c>replica.failed</c> only itself). Empty: any kind.
/// </param>
/// <param name="Service">Only events about this service: its own (<c>service/NAME</c>) and its replicas'. Null: any.</param>
/// <param name="Node">Only events about this node: its own (<c>node/NAME</c>) and those of replicas placed on it. Null: any.</param>
public sealed record EventFilter(IReadOnlyList<string> Types, string? Service, string? Node)
{
    public static EventFilter None { get; } = new([], null, null);

    /// <summary>True when nothing is filtered.</summary>
    public bool IsEmpty => Types.Count == 0 && Service is null && Node is null;

    public bool Matches(ClusterEvent item)
    {
        ArgumentNullException.ThrowIfNull(item);
        if (Types.Count > 0 && !Types.Any(t => item.Kind == t || (item.Kind.Length > t.Length && item.Kind.StartsWith(t, StringComparison.Ordinal) && item.Kind[t.Length] == '.')))
        {
            return false;
        }
        if (Service is not null && item.Service != Service && item.Subject != "service/" + Service)
        {
            return false;
        }
        return Node is null || item.Node == Node || item.Subject == "node/" + Node;
    }

    /// <summary>
    /// Parses a comma-separated list of kinds (<c>replica.failed,node</c>); false with an error naming what is wrong when
    /// one is empty or has a character other than a-z, 0-9, '.', '-' and '_'.
    /// </summary>
    public static bool TryParseTypes(string text, out IReadOnlyList<string> types, out string error)
    {
        ArgumentNullException.ThrowIfNull(text);
        var list = new List<string>();
        types = list;
        foreach (var part in text.Split(','))
        {
            var type = part.Trim();
            if (type.Length == 0 || type.StartsWith('.') || type.EndsWith('.') || !type.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '-' or '_'))
            {
                error = $"'{part}' is not an event kind: use a dotted lower-case kind such as replica.failed, or its first part (replica), comma-separated";
                return false;
            }
            list.Add(type);
        }
        error = "";
        return true;
    }

    /// <summary>
    /// Parses a <c>since</c> value: a duration back from <paramref name="now"/> (<c>10m</c>, <c>2h</c>, <c>7d</c>) or an
    /// RFC 3339 time (<c>2026-12-07T10:00:00Z</c>); false with an error otherwise.
    /// </summary>
    public static bool TryParseSince(string text, DateTimeOffset now, out DateTimeOffset since, out string error)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > 0 && char.IsAsciiDigit(text[0]) && text.Contains('T', StringComparison.OrdinalIgnoreCase))
        {
            if (DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out since)
                && (text.EndsWith('Z') || text.EndsWith('z') || text.LastIndexOfAny(['+', '-']) > text.IndexOf('T', StringComparison.OrdinalIgnoreCase)))
            {
                error = "";
                return true;
            }
            since = default;
            error = $"'{text}' is not an RFC 3339 time with a zone, such as 2026-12-07T10:00:00Z";
            return false;
        }
        if (Durations.TryParse(text, out var back, out var durationError) && back > TimeSpan.Zero)
        {
            since = now - back;
            error = "";
            return true;
        }
        since = default;
        error = $"'{text}' is neither a positive duration (10m, 2h, 7d) nor an RFC 3339 time (2026-12-07T10:00:00Z)"
            + (durationError.Length > 0 ? ": " + durationError : "");
        return false;
    }
}
