using System.Threading.Channels;

namespace Corral.Store.Sqlite;

/// <summary>
/// One watch's in-memory queue. While <see cref="Live"/>, the writer offers it each committed revision; when the consumer
/// falls <c>capacity</c> revisions behind, the watcher stops being live and its consumer catches up from the revision log,
/// so a slow consumer never loses events and never holds the writer back.
/// </summary>
internal sealed class SqliteWatcher(string prefix, int capacity)
{
    /// <summary>Queued after the last live batch when the queue overflowed: the consumer must replay from the log.</summary>
    public static readonly WatchBatch LagMarker = new(-1, []);

    private readonly Channel<WatchBatch> _channel = Channel.CreateUnbounded<WatchBatch>(new UnboundedChannelOptions { SingleReader = true });
    private int _pending;

    public string Prefix { get; } = prefix;

    /// <summary>Whether the writer delivers new revisions to this watcher; read and written under the store's watch gate.</summary>
    public bool Live { get; set; }

    public ChannelReader<WatchBatch> Reader => _channel.Reader;

    /// <summary>Offers one committed revision; called under the watch gate, only while <see cref="Live"/>.</summary>
    public void Offer(WatchBatch batch)
    {
        var events = batch.Events;
        if (Prefix.Length > 0)
        {
            List<WatchEvent>? matching = null;
            foreach (var e in events)
            {
                if (e.Kv.Key.StartsWith(Prefix, StringComparison.Ordinal))
                {
                    (matching ??= []).Add(e);
                }
            }
            if (matching is null)
            {
                return;
            }
            if (matching.Count != events.Count)
            {
                batch = new WatchBatch(batch.Revision, matching);
            }
        }
        if (Interlocked.Increment(ref _pending) > capacity)
        {
            Interlocked.Decrement(ref _pending);
            Live = false;
            _channel.Writer.TryWrite(LagMarker);
            return;
        }
        _channel.Writer.TryWrite(batch);
    }

    /// <summary>The consumer took one batch off the queue.</summary>
    public void Consumed() => Interlocked.Decrement(ref _pending);

    /// <summary>Ends the watch: the consumer's next read throws.</summary>
    public void Close(Exception error) => _channel.Writer.TryComplete(error);
}
