using System.Collections.Concurrent;
using System.Text.Json;
using Corral.Agent.Runtime;
using Corral.Core;
using Corral.Core.Api;

namespace Corral.Agent.Logs;

/// <summary>
/// Ships every replica's log (the supervisor's segments in <c>DATA/tasks/ID/logs</c>) to the servers in batches of
/// chunks, each chunk the lines from the replica's last acknowledged offset on. Once a batch is stored the new offsets
/// are saved (<c>DATA/shipping/ID.json</c>, atomically) and every segment wholly below its offset is deleted: the agent
/// keeps only what is not shipped yet (and the segment being written). A failed or unanswered send changes nothing, so
/// the next attempt sends the same lines from the same offsets: a server that had stored them overwrites each chunk
/// with itself, and a line is never lost or shipped twice under another offset. A replica that has ended (no runner,
/// no record in <c>DATA/handles</c>) is shipped to its end and then forgotten: its log directory and state are removed.
/// </summary>
public sealed class LogShipper
{
    /// <summary>Largest serialized chunk sent (the store keeps each chunk as one value of at most 1 MiB).</summary>
    internal const int MaxChunkJsonBytes = 768 * 1024;

    private readonly string _dataDirectory;
    private readonly string _node;
    private readonly Func<AgentLogBatch, CancellationToken, Task> _send;
    private readonly Func<IReadOnlyCollection<string>> _running;
    private readonly TimeProvider _time;
    private readonly LogShipperOptions _options;
    private readonly ConcurrentDictionary<string, string> _services = new(StringComparer.Ordinal);

    /// <summary>The saved states read so far (the files are written only by this shipper).</summary>
    private readonly ConcurrentDictionary<string, LogShipState?> _states = new(StringComparer.Ordinal);

    /// <summary>Where the next pass starts in the list of replicas.</summary>
    private int _start;

    /// <param name="dataDirectory">The agent's data directory.</param>
    /// <param name="node">This node's name, sent with every batch.</param>
    /// <param name="send">Stores a batch on a server; returns once it is stored, throws otherwise.</param>
    /// <param name="running">Replica ids the agent currently runs (their logs may still grow).</param>
    /// <param name="time">Clock for the pauses.</param>
    /// <param name="options">Batching and timing; null for the defaults.</param>
    public LogShipper(string dataDirectory, string node, Func<AgentLogBatch, CancellationToken, Task> send, Func<IReadOnlyCollection<string>> running, TimeProvider time, LogShipperOptions? options = null)
    {
        _dataDirectory = dataDirectory;
        _node = node;
        _send = send;
        _running = running;
        _time = time;
        _options = options ?? new LogShipperOptions();
        var errors = _options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("invalid log shipper options: " + string.Join("; ", errors), nameof(options));
        }
    }

    private string TasksDirectory => Path.Combine(_dataDirectory, "tasks");

    private string StateDirectory => Path.Combine(_dataDirectory, "shipping");

    /// <summary>Records which service each assigned replica belongs to (from the server's assignments).</summary>
    public void Learn(IEnumerable<Assignment> assignments)
    {
        ArgumentNullException.ThrowIfNull(assignments);
        foreach (var assignment in assignments)
        {
            _services[assignment.ReplicaId] = assignment.Service;
        }
    }

    /// <summary>The acknowledged offset of <paramref name="replicaId"/>; null when nothing of it was shipped (or it was forgotten).</summary>
    public long? Acknowledged(string replicaId) => LoadState(replicaId)?.Acknowledged;

    /// <summary>Ships until cancelled: a pass right after a full batch, otherwise every <see cref="LogShipperOptions.Interval"/>.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            TimeSpan pause;
            try
            {
                pause = await ShipOnceAsync(cancellationToken).ConfigureAwait(false) ? TimeSpan.Zero : _options.Interval;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception)
            {
                // Unreachable servers, a refused batch or an unreadable file: everything stays where it was, and the
                // next attempt sends the same lines again. Shipping must never end the agent.
                pause = _options.RetryInterval;
            }
            if (pause > TimeSpan.Zero)
            {
                await Task.Delay(pause, _time, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>
    /// One pass: sends one batch with the unshipped lines of up to <see cref="LogShipperOptions.MaxChunks"/> replicas,
    /// then saves their offsets and deletes shipped segments; forgets ended replicas that are fully shipped. Returns
    /// true when lines were left for another batch. A send that throws leaves every offset as it was.
    /// </summary>
    public async Task<bool> ShipOnceAsync(CancellationToken cancellationToken)
    {
        var running = _running();
        var chunks = new List<AgentLogChunk>();
        var more = false;
        // Each pass starts after the last replica the previous batch took, so no replica waits behind 32 chatty ones.
        var replicas = Replicas().ToList();
        var start = replicas.Count == 0 ? 0 : _start % replicas.Count;
        for (var i = 0; i < replicas.Count; i++)
        {
            var index = (start + i) % replicas.Count;
            var (id, logDirectory) = replicas[index];
            var state = LoadState(id);
            var from = state?.Acknowledged ?? 0;
            var read = TaskLogReader.Read(logDirectory, from, _options.ChunkReadBytes);
            if (read.Lines.Count == 0)
            {
                if (read.NextOffset > from)
                {
                    // Everything from the acknowledged offset on was rotated away before it could be shipped.
                    SaveState(id, new LogShipState { Service = ServiceOf(id, state), Acknowledged = read.NextOffset });
                }
                else if (!IsLive(id, running))
                {
                    Forget(id, logDirectory);
                }
                continue;
            }
            if (chunks.Count == _options.MaxChunks)
            {
                more = true;
                break;
            }
            var chunk = ToChunk(id, ServiceOf(id, state), from, read);
            chunks.Add(chunk);
            _start = index + 1;
            more |= chunk.Next < LogEnd(logDirectory);
        }
        if (chunks.Count == 0)
        {
            return false;
        }
        await _send(new AgentLogBatch(_node, chunks), cancellationToken).ConfigureAwait(false);
        foreach (var chunk in chunks)
        {
            SaveState(chunk.ReplicaId, new LogShipState { Service = chunk.Service, Acknowledged = chunk.Next });
            DeleteShippedSegments(Path.Combine(TasksDirectory, chunk.ReplicaId, "logs"), chunk.Next);
        }
        return more;
    }

    /// <summary>The replicas with a log directory, by id.</summary>
    private IEnumerable<(string Id, string LogDirectory)> Replicas()
    {
        if (!Directory.Exists(TasksDirectory))
        {
            yield break;
        }
        foreach (var task in Directory.GetDirectories(TasksDirectory).Order(StringComparer.Ordinal))
        {
            var logs = Path.Combine(task, "logs");
            if (Directory.Exists(logs))
            {
                yield return (Path.GetFileName(task), logs);
            }
        }
    }

    private AgentLogChunk ToChunk(string id, string service, long from, LogReadResult read)
    {
        var lines = read.Lines.Select(l => new AgentLogLine(l.Offset, l.Time, l.Stream, Cut(l.Text))).ToList();
        var count = lines.Count;
        while (true)
        {
            var next = count == lines.Count ? read.NextOffset : read.Lines[count].Offset;
            var chunk = new AgentLogChunk(id, service, from, next, count == lines.Count ? lines : lines.GetRange(0, count));
            if (count == 1 || JsonSerializer.SerializeToUtf8Bytes(chunk, CoreJson.Default.AgentLogChunk).Length <= MaxChunkJsonBytes)
            {
                return chunk;
            }
            count /= 2;
        }
    }

    private string Cut(string text) =>
        text.Length <= _options.MaxLineChars ? text : string.Concat(text.AsSpan(0, _options.MaxLineChars), " [cut: line of ", text.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), " characters]");

    /// <summary>The offset just past the last byte written to the log (0 when it has no segment).</summary>
    private static long LogEnd(string logDirectory)
    {
        var segments = LogSegment.List(logDirectory);
        if (segments.Count == 0)
        {
            return 0;
        }
        var last = new FileInfo(segments[^1].Path);
        return segments[^1].Start + (last.Exists ? last.Length : 0);
    }

    /// <summary>Deletes the segments that end at or below <paramref name="acknowledged"/>; never the newest one, which the supervisor may still write.</summary>
    internal static void DeleteShippedSegments(string logDirectory, long acknowledged)
    {
        var segments = LogSegment.List(logDirectory);
        for (var i = 0; i < segments.Count - 1 && segments[i + 1].Start <= acknowledged; i++)
        {
            try
            {
                File.Delete(segments[i].Path);
            }
            catch (IOException)
            {
                // Still open elsewhere or already gone: the next batch tries again.
            }
        }
    }

    private bool IsLive(string id, IReadOnlyCollection<string> running) =>
        running.Contains(id) || File.Exists(Path.Combine(_dataDirectory, "handles", id + ".json"));

    private void Forget(string id, string logDirectory)
    {
        Directory.Delete(logDirectory, recursive: true);
        File.Delete(StatePath(id));
        _states.TryRemove(id, out _);
        _services.TryRemove(id, out _);
    }

    /// <summary>The replica's service: from the assignments, else from its saved state, else its id without the random suffix.</summary>
    private string ServiceOf(string id, LogShipState? state)
    {
        if (_services.TryGetValue(id, out var service))
        {
            return service;
        }
        if (state is not null)
        {
            return state.Service;
        }
        var dash = id.LastIndexOf('-');
        return dash > 0 ? id[..dash] : id;
    }

    private string StatePath(string id) => Path.Combine(StateDirectory, id + ".json");

    private LogShipState? LoadState(string id) => _states.GetOrAdd(id, key =>
    {
        var path = StatePath(key);
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize<LogShipState>(File.ReadAllBytes(path), AgentJson.Options) : null;
        }
        catch (JsonException)
        {
            // A damaged state ships the replica's log from its oldest line again: the servers store it under the
            // same offsets, and readers show each offset once.
            return null;
        }
    });

    private void SaveState(string id, LogShipState state)
    {
        Directory.CreateDirectory(StateDirectory);
        AgentJson.WriteAtomically(StatePath(id), state);
        _states[id] = state;
    }
}
