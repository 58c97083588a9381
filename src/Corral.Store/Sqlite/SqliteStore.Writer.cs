using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;

namespace Corral.Store.Sqlite;

public sealed partial class SqliteStore
{
    // Writer-thread state: touched only by the writer thread (and by Initialize before it starts).
    private long _revision;
    private long _now;
    private bool _leasesChanged;
    private List<WatchEvent> _events = [];
    private readonly List<WatchBatch> _published = [];
    private SqliteCommand _begin = null!;
    private SqliteCommand _commit = null!;
    private SqliteCommand _rollback = null!;
    private SqliteCommand _savepoint = null!;
    private SqliteCommand _release = null!;
    private SqliteCommand _rollbackTo = null!;
    private SqliteCommand _setRevision = null!;
    private SqliteCommand _selectKv = null!;
    private SqliteCommand _upsertKv = null!;
    private SqliteCommand _deleteKv = null!;
    private SqliteCommand _insertLog = null!;
    private SqliteCommand _leaseExists = null!;
    private SqliteCommand _dueLeases = null!;

    private void PrepareWriterCommands()
    {
        _begin = Prepare("BEGIN IMMEDIATE;");
        _commit = Prepare("COMMIT;");
        _rollback = Prepare("ROLLBACK;");
        _savepoint = Prepare("SAVEPOINT request;");
        _release = Prepare("RELEASE request;");
        _rollbackTo = Prepare("ROLLBACK TO request;");
        _setRevision = Prepare("UPDATE meta SET value = $v WHERE name = 'revision';", "$v");
        _selectKv = Prepare($"SELECT {KvColumns} FROM kv WHERE key = $key;", "$key");
        _upsertKv = Prepare(
            """
            INSERT INTO kv (key, value, create_rev, mod_rev, version, lease) VALUES ($key, $value, $create, $mod, $version, $lease)
            ON CONFLICT (key) DO UPDATE SET value = excluded.value, create_rev = excluded.create_rev, mod_rev = excluded.mod_rev,
                version = excluded.version, lease = excluded.lease;
            """,
            "$key", "$value", "$create", "$mod", "$version", "$lease");
        _deleteKv = Prepare("DELETE FROM kv WHERE key = $key;", "$key");
        _insertLog = Prepare(
            "INSERT INTO log VALUES ($rev, $seq, $type, $key, $value, $create, $version, $lease, $pv, $pc, $pm, $pver, $pl);",
            "$rev", "$seq", "$type", "$key", "$value", "$create", "$version", "$lease", "$pv", "$pc", "$pm", "$pver", "$pl");
        _leaseExists = Prepare("SELECT 1 FROM lease WHERE id = $id;", "$id");
        _dueLeases = Prepare("SELECT id FROM lease WHERE expires_at <= $now ORDER BY expires_at, id;", "$now");
    }

    private SqliteCommand Prepare(string sql, params string[] parameters)
    {
        var command = _writer.CreateCommand();
        command.CommandText = sql;
        foreach (var name in parameters)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name, Value = DBNull.Value });
        }
        command.Prepare();
        return command;
    }

    private Task<TxnResult> TxnCoreAsync(Txn txn, CancellationToken cancellationToken) =>
        EnqueueAsync(() => ApplyTxn(txn), cancellationToken);

    private async Task<T> EnqueueAsync<T>(Func<T> apply, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        cancellationToken.ThrowIfCancellationRequested();
        var request = new SqliteWriteRequest(() => apply());
        if (!_queue.Writer.TryWrite(request))
        {
            throw new ObjectDisposedException(nameof(SqliteStore), $"the store {_path} is closed");
        }
        var result = await request.Completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        return (T)result!;
    }

    private void WriterLoop()
    {
        var reader = _queue.Reader;
        var batch = new List<SqliteWriteRequest>(_options.MaxWriteBatch);
        while (true)
        {
            if (!reader.TryRead(out var first))
            {
                if (!reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
                {
                    return;
                }
                continue;
            }
            // Group commit: every write that queued up while the previous batch was being made durable shares one fsync.
            batch.Add(first);
            while (batch.Count < _options.MaxWriteBatch && reader.TryRead(out var next))
            {
                batch.Add(next);
            }
            ProcessBatch(batch);
            batch.Clear();
        }
    }

    private void ProcessBatch(List<SqliteWriteRequest> batch)
    {
        _now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        _published.Clear();
        _leasesChanged = false;
        var startRevision = _revision;
        try
        {
            _begin.ExecuteNonQuery();
            ExpireDueLeases(_now);
            foreach (var request in batch)
            {
                _savepoint.ExecuteNonQuery();
                _events = [];
                try
                {
                    request.Result = request.Apply();
                    if (_events.Count > 0)
                    {
                        _revision++;
                        _published.Add(new WatchBatch(_revision, _events));
                    }
                    _release.ExecuteNonQuery();
                }
                catch (Exception e)
                {
                    _rollbackTo.ExecuteNonQuery();
                    _release.ExecuteNonQuery();
                    request.Error = e is SqliteException sqlite ? MapException(sqlite, _path, "write") : e;
                }
            }
            if (_revision != startRevision)
            {
                _setRevision.Parameters[0].Value = _revision;
                _setRevision.ExecuteNonQuery();
            }
            _commit.ExecuteNonQuery();
        }
        catch (Exception e)
        {
            try
            {
                _rollback.ExecuteNonQuery();
            }
            catch (SqliteException)
            {
                // The transaction may already be gone (SQLite rolls back by itself on some errors).
            }
            _revision = startRevision;
            var error = e is SqliteException sqlite ? MapException(sqlite, _path, "write") : e;
            Log.WriteFailed(_logger, _path, batch.Count, error);
            if (_leasesChanged)
            {
                RescheduleSweeper();
            }
            foreach (var request in batch)
            {
                request.Completion.TrySetException(error);
            }
            return;
        }

        // Watchers see a revision before its writer does, so a caller that writes and then watches from 0 never sees its own write.
        Publish(_published);
        // The sweep is rescheduled before the writers are answered: a caller that renews a lease and then moves the
        // clock on (a test's fake time) must find the sweep already due at the renewed expiry, not later.
        if (_leasesChanged)
        {
            RescheduleSweeper();
        }
        foreach (var request in batch)
        {
            if (request.Error is { } error)
            {
                request.Completion.TrySetException(error);
            }
            else
            {
                request.Completion.TrySetResult(request.Result);
            }
        }
    }

    private void Publish(List<WatchBatch> batches)
    {
        if (batches.Count == 0)
        {
            return;
        }
        lock (_watchGate)
        {
            foreach (var batch in batches)
            {
                foreach (var watcher in _watchers)
                {
                    if (watcher.Live)
                    {
                        watcher.Offer(batch);
                    }
                }
                _lastPublished = batch.Revision;
            }
        }
    }

    private TxnResult ApplyTxn(Txn txn)
    {
        var succeeded = true;
        foreach (var compare in txn.Compares)
        {
            if (!Holds(compare))
            {
                succeeded = false;
                break;
            }
        }
        var ops = succeeded ? txn.Success : txn.Failure;
        foreach (var op in ops)
        {
            if (op is TxnOp.Put { Lease: not 0 } put && !LeaseExists(put.Lease))
            {
                throw new LeaseNotFoundException(put.Lease);
            }
        }

        var revision = _revision + 1;
        var results = new List<Func<long, TxnOpResult>>(ops.Count);
        foreach (var op in ops)
        {
            switch (op)
            {
                case TxnOp.Put put:
                    var putResult = PutCore(put.Key, put.Value, put.Lease);
                    results.Add(_ => new TxnOpResult.Put(putResult));
                    break;
                case TxnOp.Delete delete:
                    var previous = SelectKvWriter(KeyBytes(delete.Key));
                    List<KeyValue> deleted = previous is null ? [] : [previous];
                    foreach (var kv in deleted)
                    {
                        DeleteCore(kv);
                    }
                    results.Add(final => new TxnOpResult.Delete(new DeleteResult(final, deleted.Count, deleted)));
                    break;
                case TxnOp.DeletePrefix deletePrefix:
                    var inRange = RangeCore(_writer, deletePrefix.Prefix, RangeOptions.Default, _revision).Kvs;
                    foreach (var kv in inRange)
                    {
                        DeleteCore(kv);
                    }
                    results.Add(final => new TxnOpResult.Delete(new DeleteResult(final, inRange.Count, inRange)));
                    break;
                case TxnOp.Get get:
                    var found = SelectKvWriter(KeyBytes(get.Key));
                    results.Add(final => new TxnOpResult.Range(new RangeResult(found is null ? [] : [found], final, false, found is null ? 0 : 1)));
                    break;
                case TxnOp.Range range:
                    var read = RangeCore(_writer, range.Prefix, range.Options with { Revision = 0 }, _revision);
                    results.Add(final => new TxnOpResult.Range(read with { Revision = final }));
                    break;
                default:
                    throw new ArgumentException($"unknown transaction operation {op.GetType().Name}", nameof(txn));
            }
        }
        var finalRevision = _events.Count > 0 ? revision : _revision;
        return new TxnResult(succeeded, finalRevision, results.ConvertAll(f => f(finalRevision)));
    }

    private bool Holds(Compare compare)
    {
        if (compare.WholePrefix)
        {
            var under = RangeCore(_writer, compare.Key, RangeOptions.Default, _revision).Kvs;
            return under.Count == 0 ? Holds(compare, null) : under.All(kv => Holds(compare, kv));
        }
        return Holds(compare, SelectKvWriter(KeyBytes(compare.Key)));
    }

    private static bool Holds(Compare compare, KeyValue? kv)
    {
        int order;
        if (compare.Target == CompareTarget.Value)
        {
            if (kv is null)
            {
                return false;
            }
            order = kv.Value.Span.SequenceCompareTo(compare.Value.Span);
        }
        else
        {
            var actual = compare.Target switch
            {
                CompareTarget.ModRevision => kv?.ModRevision ?? 0,
                CompareTarget.CreateRevision => kv?.CreateRevision ?? 0,
                CompareTarget.Version => kv?.Version ?? 0,
                CompareTarget.Lease => kv?.Lease ?? 0,
                _ => throw new ArgumentException($"unknown compare target {compare.Target}", nameof(compare)),
            };
            order = actual.CompareTo(compare.Number);
        }
        return compare.Op switch
        {
            CompareOp.Equal => order == 0,
            CompareOp.NotEqual => order != 0,
            CompareOp.Greater => order > 0,
            CompareOp.Less => order < 0,
            _ => throw new ArgumentException($"unknown compare operator {compare.Op}", nameof(compare)),
        };
    }

    private KeyValue? SelectKvWriter(byte[] key)
    {
        _selectKv.Parameters[0].Value = key;
        using var reader = _selectKv.ExecuteReader();
        return reader.Read() ? ReadKv(reader, keysOnly: false) : null;
    }

    private PutResult PutCore(string key, ReadOnlyMemory<byte> value, long lease)
    {
        var keyBytes = KeyBytes(key);
        var previous = SelectKvWriter(keyBytes);
        var revision = _revision + 1;
        var kv = new KeyValue(key, value, previous?.CreateRevision ?? revision, revision, (previous?.Version ?? 0) + 1, lease);
        var valueBytes = AsArray(value);
        var p = _upsertKv.Parameters;
        p[0].Value = keyBytes;
        p[1].Value = valueBytes;
        p[2].Value = kv.CreateRevision;
        p[3].Value = revision;
        p[4].Value = kv.Version;
        p[5].Value = lease;
        _upsertKv.ExecuteNonQuery();
        AppendLog(revision, WatchEventType.Put, keyBytes, kv, valueBytes, previous);
        _events.Add(new WatchEvent(WatchEventType.Put, kv, previous));
        return new PutResult(revision, previous);
    }

    private void DeleteCore(KeyValue previous)
    {
        var keyBytes = KeyBytes(previous.Key);
        var revision = _revision + 1;
        _deleteKv.Parameters[0].Value = keyBytes;
        _deleteKv.ExecuteNonQuery();
        var tombstone = new KeyValue(previous.Key, ReadOnlyMemory<byte>.Empty, 0, revision, 0, 0);
        AppendLog(revision, WatchEventType.Delete, keyBytes, tombstone, [], previous);
        _events.Add(new WatchEvent(WatchEventType.Delete, tombstone, previous));
    }

    private void AppendLog(long revision, WatchEventType type, byte[] key, KeyValue kv, byte[] value, KeyValue? previous)
    {
        var p = _insertLog.Parameters;
        p[0].Value = revision;
        p[1].Value = _events.Count;
        p[2].Value = (int)type;
        p[3].Value = key;
        p[4].Value = value;
        p[5].Value = kv.CreateRevision;
        p[6].Value = kv.Version;
        p[7].Value = kv.Lease;
        p[8].Value = previous is null ? DBNull.Value : AsArray(previous.Value);
        p[9].Value = previous is null ? DBNull.Value : previous.CreateRevision;
        p[10].Value = previous is null ? DBNull.Value : previous.ModRevision;
        p[11].Value = previous is null ? DBNull.Value : previous.Version;
        p[12].Value = previous is null ? DBNull.Value : previous.Lease;
        _insertLog.ExecuteNonQuery();
    }

    private void CompactCore(long revision)
    {
        var compacted = ReadMeta(_writer, MetaCompacted);
        if (revision <= compacted)
        {
            throw new StoreCompactedException(revision, compacted);
        }
        if (revision > _revision)
        {
            throw new ArgumentException($"cannot compact at revision {revision}: the current revision is {_revision}", nameof(revision));
        }
        using var command = _writer.CreateCommand();
        command.CommandText = "DELETE FROM log WHERE rev <= $rev; UPDATE meta SET value = $rev WHERE name = 'compacted';";
        command.Parameters.AddWithValue("$rev", revision);
        command.ExecuteNonQuery();
    }

    private static byte[] AsArray(ReadOnlyMemory<byte> memory) =>
        MemoryMarshal.TryGetArray(memory, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : memory.ToArray();
}
