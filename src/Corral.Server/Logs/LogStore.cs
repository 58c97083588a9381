using System.Runtime.CompilerServices;
using System.Text.Json;
using Corral.Core;
using Corral.Core.Api;
using Corral.Server.State;
using Corral.Store;

namespace Corral.Server.Logs;

/// <summary>
/// The replicas' logs in the cluster store, one value per shipped chunk under
/// <c>/corral/logs/SERVICE/REPLICA/FROM</c> (see <see cref="Keys.LogChunk"/>), so every server can serve them and they
/// outlive the node that wrote them. A chunk's key is its first offset, so a chunk sent again overwrites itself; readers
/// also skip any line at or below an offset they have already returned for its replica, so chunks that overlap (an agent
/// that lost its acknowledged offset and shipped from further back) still yield each line once.
/// </summary>
public sealed class LogStore(IClusterStore store)
{
    private const int PageSize = 64;

    public IClusterStore Store { get; } = store;

    /// <summary>Every problem with <paramref name="batch"/>, each naming its field; empty when it can be stored.</summary>
    public static IReadOnlyList<FieldError> Validate(AgentLogBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var errors = new List<FieldError>();
        if (batch.Chunks is null)
        {
            errors.Add(new FieldError("chunks", "a list of chunks is required"));
            return errors;
        }
        if (batch.Chunks.Count > AgentLogBatch.MaxChunks)
        {
            errors.Add(new FieldError("chunks", $"at most {AgentLogBatch.MaxChunks} chunks per batch; got {batch.Chunks.Count}"));
        }
        var seen = new HashSet<(string, long)>();
        for (var i = 0; i < batch.Chunks.Count; i++)
        {
            var at = $"chunks[{i}]";
            var chunk = batch.Chunks[i];
            if (chunk is null)
            {
                errors.Add(new FieldError(at, "a chunk is required"));
                continue;
            }
            if (!IsName(chunk.ReplicaId))
            {
                errors.Add(new FieldError(at + ".replica_id", $"'{chunk.ReplicaId}' must be 1 to 253 letters, digits, '.', '_' and '-'"));
            }
            if (!IsName(chunk.Service))
            {
                errors.Add(new FieldError(at + ".service", $"'{chunk.Service}' must be 1 to 253 letters, digits, '.', '_' and '-'"));
            }
            if (chunk.From < 0 || chunk.Next < chunk.From)
            {
                errors.Add(new FieldError(at, $"from ({chunk.From}) must be 0 or more and next ({chunk.Next}) at least from"));
            }
            if (!seen.Add((chunk.ReplicaId ?? "", chunk.From)))
            {
                errors.Add(new FieldError(at, $"a second chunk of replica {chunk.ReplicaId} from offset {chunk.From}"));
            }
            if (chunk.Lines is null)
            {
                errors.Add(new FieldError(at + ".lines", "a list of lines is required"));
                continue;
            }
            var last = chunk.From - 1;
            for (var j = 0; j < chunk.Lines.Count; j++)
            {
                var line = chunk.Lines[j];
                if (line is null || line.Text is null || line.Stream is null)
                {
                    errors.Add(new FieldError($"{at}.lines[{j}]", "every line needs offset, stream and text"));
                    break;
                }
                if (line.Offset <= last || line.Offset >= chunk.Next)
                {
                    errors.Add(new FieldError($"{at}.lines[{j}].offset", $"{line.Offset} must be above the previous line's and from {chunk.From} to below next ({chunk.Next})"));
                    break;
                }
                last = line.Offset;
            }
            var bytes = JsonSerializer.SerializeToUtf8Bytes(chunk with { Node = batch.Node }, CoreJson.Default.AgentLogChunk).Length;
            if (bytes > StoreLimits.MaxValueBytes)
            {
                errors.Add(new FieldError(at, $"is {bytes} bytes as JSON; the limit is {StoreLimits.MaxValueBytes}"));
            }
        }
        return errors;
    }

    /// <summary>
    /// Stores every chunk, tagged with <paramref name="node"/>, each as one put (chunks are independent; the caller
    /// acknowledges the batch only once all of them are stored).
    /// </summary>
    public async Task WriteAsync(string node, IReadOnlyList<AgentLogChunk> chunks, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        foreach (var chunk in chunks)
        {
            var stored = chunk with { Node = node };
            await Store.PutAsync(Keys.LogChunk(chunk.Service, chunk.ReplicaId, chunk.From), JsonSerializer.SerializeToUtf8Bytes(stored, CoreJson.Default.AgentLogChunk), 0, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>True when at least one chunk of <paramref name="service"/> is kept.</summary>
    public async Task<bool> HasLogsAsync(string service, CancellationToken cancellationToken)
    {
        var range = await Store.RangeAsync(ServicePrefix(service), new RangeOptions { Limit = 1, KeysOnly = true }, cancellationToken).ConfigureAwait(false);
        return range.Kvs.Count > 0;
    }

    /// <summary>
    /// The kept lines that match <paramref name="query"/>, ordered by time (then replica, then offset), and the store
    /// revision they were read at (to follow from). <paramref name="cursor"/> remembers what was returned.
    /// </summary>
    public async Task<(IReadOnlyList<LogRecord> Records, long Revision)> ReadAsync(LogQuery query, LogCursor cursor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(cursor);
        var prefix = Prefix(query);
        var records = new List<LogRecord>();
        long revision = 0;
        string? after = null;
        while (true)
        {
            var page = await Store.RangeAsync(prefix, new RangeOptions { Limit = PageSize, Revision = revision, After = after }, cancellationToken).ConfigureAwait(false);
            revision = page.Revision;
            foreach (var kv in page.Kvs)
            {
                if (Decode(kv) is { } chunk)
                {
                    records.AddRange(cursor.Take(chunk, query));
                }
            }
            if (!page.More || page.Kvs.Count == 0)
            {
                break;
            }
            after = page.Kvs[^1].Key;
        }
        var ordered = records.OrderBy(r => r.Time).ThenBy(r => r.ReplicaId, StringComparer.Ordinal).ThenBy(r => r.Offset).ToList();
        if (query.Tail is { } tail && ordered.Count > tail)
        {
            ordered = ordered.GetRange(ordered.Count - tail, tail);
        }
        return (ordered, revision);
    }

    /// <summary>
    /// New lines that match <paramref name="query"/> as chunks are stored after <paramref name="revision"/>, until
    /// cancelled; lines <paramref name="cursor"/> has already returned are skipped.
    /// </summary>
    public async IAsyncEnumerable<LogRecord> FollowAsync(LogQuery query, LogCursor cursor, long revision, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(cursor);
        var followQuery = query with { Tail = null };
        await foreach (var batch in Store.WatchAsync(Prefix(query), revision + 1, cancellationToken).ConfigureAwait(false))
        {
            foreach (var change in batch.Events)
            {
                if (change.Type != WatchEventType.Put || Decode(change.Kv) is not { } chunk)
                {
                    continue;
                }
                foreach (var record in cursor.Take(chunk, followQuery))
                {
                    yield return record;
                }
            }
        }
    }

    /// <summary>Decodes a stored chunk; null for a value that is not one (never written by this server).</summary>
    internal static AgentLogChunk? Decode(KeyValue kv)
    {
        try
        {
            return JsonSerializer.Deserialize(kv.Value.Span, CoreJson.Default.AgentLogChunk);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>True for a name that is safe as one segment of a log key.</summary>
    public static bool IsName(string? name) =>
        !string.IsNullOrEmpty(name) && name.Length <= 253 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    private static string ServicePrefix(string service) => Keys.Logs + service + "/";

    private static string Prefix(LogQuery query) =>
        query.ReplicaId is null ? ServicePrefix(query.Service) : ServicePrefix(query.Service) + query.ReplicaId + "/";
}
