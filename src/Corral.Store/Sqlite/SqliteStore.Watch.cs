using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Channels;

namespace Corral.Store.Sqlite;

public sealed partial class SqliteStore
{
    /// <summary>Revisions read from the log per replay query.</summary>
    private const int ReplayChunk = 1024;

    /// <inheritdoc />
    /// <remarks>
    /// A watch first replays the revision log from <paramref name="fromRevision"/>, then switches to revisions published
    /// by the writer as they commit; the switch is made under the lock the writer publishes under, and any revision seen
    /// twice is dropped by its number, so the hand-over has no gap and no duplicate. A consumer that falls
    /// <see cref="SqliteStoreOptions.WatchQueueCapacity"/> revisions behind goes back to replaying the log.
    /// Closing the store ends every watch with <see cref="ObjectDisposedException"/>.
    /// </remarks>
    public IAsyncEnumerable<WatchBatch> WatchAsync(string prefix, long fromRevision, CancellationToken cancellationToken = default)
    {
        StoreLimits.ValidatePrefix(prefix);
        if (fromRevision < 0)
        {
            throw new ArgumentException($"watch revision must be 0 (from the next write) or positive; got {fromRevision}", nameof(fromRevision));
        }
        ThrowIfDisposed();
        return WatchCoreAsync(prefix, fromRevision, cancellationToken);
    }

    private async IAsyncEnumerable<WatchBatch> WatchCoreAsync(string prefix, long fromRevision, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var watcher = new SqliteWatcher(prefix, _options.WatchQueueCapacity);
        long next;
        lock (_watchGate)
        {
            ThrowIfDisposed();
            _watchers.Add(watcher);
            if (fromRevision == 0)
            {
                next = _lastPublished + 1;
                watcher.Live = true;
            }
            else
            {
                next = fromRevision;
            }
        }
        try
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (!watcher.Live)
                {
                    var (batches, upTo, current) = ReadHistory(prefix, next);
                    foreach (var batch in batches)
                    {
                        yield return batch;
                        next = batch.Revision + 1;
                    }
                    next = Math.Max(next, upTo + 1);
                    if (upTo >= current)
                    {
                        lock (_watchGate)
                        {
                            // Everything published so far is in the log we just read; later revisions come live.
                            if (_lastPublished < next)
                            {
                                watcher.Live = true;
                            }
                        }
                    }
                    continue;
                }

                WatchBatch live;
                try
                {
                    live = await watcher.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (ChannelClosedException e)
                {
                    throw e.InnerException ?? new ObjectDisposedException(nameof(SqliteStore), $"the store {_path} was closed");
                }
                if (ReferenceEquals(live, SqliteWatcher.LagMarker))
                {
                    continue;
                }
                watcher.Consumed();
                if (live.Revision < next)
                {
                    continue;
                }
                yield return live;
                next = live.Revision + 1;
            }
        }
        finally
        {
            lock (_watchGate)
            {
                _watchers.Remove(watcher);
            }
        }
    }

    /// <summary>
    /// Reads up to <see cref="ReplayChunk"/> revisions of history from <paramref name="from"/>, one batch per revision
    /// with matching events, plus the last revision covered and the current revision.
    /// </summary>
    private (List<WatchBatch> Batches, long UpTo, long Current) ReadHistory(string prefix, long from) => Read(connection =>
    {
        var current = ReadMeta(connection, MetaRevision);
        var compacted = ReadMeta(connection, MetaCompacted);
        if (from <= compacted)
        {
            throw new StoreCompactedException(from, compacted);
        }
        var batches = new List<WatchBatch>();
        var upTo = Math.Min(current, from + ReplayChunk - 1);
        if (upTo < from)
        {
            return (batches, current, current);
        }
        var lo = KeyBytes(prefix);
        var hi = lo.Length == 0 ? null : PrefixEnd(lo);
        using var command = connection.CreateCommand();
        command.CommandText =
            "SELECT rev, type, key, value, create_rev, version, lease, prev_value, prev_create_rev, prev_mod_rev, prev_version, prev_lease "
            + "FROM log WHERE rev >= $from AND rev <= $to"
            + (lo.Length > 0 ? " AND key >= $lo" : "")
            + (hi is not null ? " AND key < $hi" : "")
            + " ORDER BY rev, seq;";
        command.Parameters.AddWithValue("$from", from);
        command.Parameters.AddWithValue("$to", upTo);
        command.Parameters.AddWithValue("$lo", lo);
        command.Parameters.AddWithValue("$hi", (object?)hi ?? DBNull.Value);
        using var reader = command.ExecuteReader();
        List<WatchEvent>? events = null;
        long revision = 0;
        while (reader.Read())
        {
            var rev = reader.GetInt64(0);
            if (events is null || rev != revision)
            {
                if (events is not null)
                {
                    batches.Add(new WatchBatch(revision, events));
                }
                events = [];
                revision = rev;
            }
            var type = (WatchEventType)reader.GetInt32(1);
            var key = Encoding.UTF8.GetString((byte[])reader.GetValue(2));
            var kv = new KeyValue(key, (byte[])reader.GetValue(3), reader.GetInt64(4), rev, reader.GetInt64(5), reader.GetInt64(6));
            var previous = reader.IsDBNull(8)
                ? null
                : new KeyValue(key, (byte[])reader.GetValue(7), reader.GetInt64(8), reader.GetInt64(9), reader.GetInt64(10), reader.GetInt64(11));
            events.Add(new WatchEvent(type, kv, previous));
        }
        if (events is not null)
        {
            batches.Add(new WatchBatch(revision, events));
        }
        return (batches, upTo, current);
    });
}
