using Corral.Core.Api;

namespace Corral.Server.Logs;

/// <summary>
/// What one reader has returned so far: the highest offset per replica. A line at or below it is a duplicate (an
/// overwritten or overlapping chunk) and is skipped. Not thread-safe: one per request.
/// </summary>
public sealed class LogCursor
{
    private readonly Dictionary<string, long> _last = new(StringComparer.Ordinal);

    /// <summary>The lines of <paramref name="chunk"/> that match <paramref name="query"/> and were not returned before.</summary>
    public IEnumerable<LogRecord> Take(AgentLogChunk chunk, LogQuery query)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        ArgumentNullException.ThrowIfNull(query);
        var result = new List<LogRecord>();
        var node = chunk.Node ?? "";
        if (query.Node is not null && !string.Equals(query.Node, node, StringComparison.Ordinal))
        {
            return result;
        }
        var last = _last.GetValueOrDefault(chunk.ReplicaId, -1);
        foreach (var line in chunk.Lines)
        {
            if (line.Offset <= last)
            {
                continue;
            }
            last = line.Offset;
            var time = line.Time ?? DateTimeOffset.UnixEpoch;
            if (query.Since is { } since && time < since)
            {
                continue;
            }
            result.Add(new LogRecord(chunk.Service, chunk.ReplicaId, node, line.Stream, line.Offset, time, line.Text));
        }
        _last[chunk.ReplicaId] = last;
        return result;
    }
}
