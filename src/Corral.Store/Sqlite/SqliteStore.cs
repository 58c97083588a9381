using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Corral.Store.Sqlite;

/// <summary>
/// The embedded cluster store: one SQLite database file in WAL mode, for a single-server cluster.
/// </summary>
/// <remarks>
/// <para><b>Files.</b> <c>DIR/store.db</c> (with SQLite's <c>-wal</c> and <c>-shm</c> files beside it) holds the keys, the
/// revision log (history for watches and past reads, until compacted), the leases and the current and compacted
/// revisions. <c>DIR/store.db.lock</c> is held exclusively while the store is open: only one <see cref="SqliteStore"/>, in one
/// process, may use a file at a time; a second opener fails with <see cref="StoreCorruptException"/> naming the file.</para>
/// <para><b>Writes.</b> One writer connection applies every write; writes from concurrent callers are committed together in
/// one transaction (one fsync), each with its own revision. A write is acknowledged only after its transaction is durable:
/// with <see cref="SqliteSynchronousMode.Full"/> (the default) it survives a power loss, with
/// <see cref="SqliteSynchronousMode.Normal"/> a process crash. Reads run on their own connections and never wait for writes.</para>
/// <para><b>Leases across a restart.</b> A lease's deadline is stored as an absolute time from the injected
/// <see cref="TimeProvider"/>. On open, a lease whose deadline has passed is expired at once (its keys deleted, with delete
/// events); every other lease keeps its deadline, but never more than its full TTL from the moment the store was opened, so
/// a lease whose owner went away with the old process expires within one TTL even if the clock moved backwards.</para>
/// <para><b>Errors.</b> A file locked by another process, read-only, or not a valid database throws
/// <see cref="StoreCorruptException"/> naming the file and the problem; a directory that cannot be created or opened throws
/// <see cref="StoreUnavailableException"/>.</para>
/// </remarks>
public sealed partial class SqliteStore : IClusterStore
{
    private const string MetaRevision = "revision";
    private const string MetaCompacted = "compacted";

    private readonly SqliteStoreOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<SqliteStore> _logger;
    private readonly string _path;
    private readonly string _readConnectionString;
    private readonly FileStream _lockFile;
    private readonly SqliteConnection _writer;
    private readonly Channel<SqliteWriteRequest> _queue = Channel.CreateUnbounded<SqliteWriteRequest>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock _watchGate = new();
    private readonly List<SqliteWatcher> _watchers = [];
    private readonly StoreElection _election;
    private readonly ITimer _sweeper;
    private readonly Thread _writerThread;
    private readonly CancellationTokenSource _disposing = new();
    private long _lastPublished;
    private int _disposed;

    private SqliteStore(SqliteStoreOptions options, TimeProvider time, ILogger<SqliteStore> logger, string path, FileStream lockFile, SqliteConnection writer)
    {
        _options = options;
        _time = time;
        _logger = logger;
        _path = path;
        _lockFile = lockFile;
        _writer = writer;
        _readConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWrite,
            Pooling = true,
            DefaultTimeout = (int)options.BusyTimeout.TotalSeconds,
        }.ToString();
        _election = new StoreElection(this, time);
        _sweeper = time.CreateTimer(_ => RequestSweep(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _writerThread = new Thread(WriterLoop) { IsBackground = true, Name = "corral-sqlite-writer" };
    }

    /// <inheritdoc />
    public string Kind => "sqlite";

    /// <summary>The database file's full path.</summary>
    public string DatabasePath => _path;

    /// <summary>
    /// Opens (creating when missing) the store in <see cref="SqliteStoreOptions.DataDirectory"/>, recovers its leases
    /// (see the class remarks) and starts the writer. Throws <see cref="ArgumentException"/> for invalid options,
    /// <see cref="StoreCorruptException"/> when the file is locked, read-only, already open in another store or corrupt,
    /// <see cref="StoreUnavailableException"/> when the directory cannot be used; every message names the file.
    /// </summary>
    public static SqliteStore Open(SqliteStoreOptions options, TimeProvider time, ILogger<SqliteStore> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        options.ThrowIfInvalid();
        var path = options.DatabasePath;
        var lockFile = AcquireLockFile(options, path);
        SqliteConnection? writer = null;
        try
        {
            writer = OpenWriter(options, path);
            var store = new SqliteStore(options, time, logger, path, lockFile, writer);
            store.Initialize();
            return store;
        }
        catch
        {
            writer?.Dispose();
            lockFile.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public Task<long> GetRevisionAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Read(connection => ReadMeta(connection, MetaRevision)));
    }

    /// <inheritdoc />
    public Task<KeyValue?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        StoreLimits.ValidateKey(key);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Read(connection => SelectKey(connection, KeyBytes(key))));
    }

    /// <inheritdoc />
    public Task<RangeResult> RangeAsync(string prefix, RangeOptions? options = null, CancellationToken cancellationToken = default)
    {
        StoreLimits.ValidatePrefix(prefix);
        options ??= RangeOptions.Default;
        ValidateRangeOptions(options);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Read(connection =>
        {
            var current = ReadMeta(connection, MetaRevision);
            if (options.Revision > current)
            {
                throw new StoreException($"range at revision {options.Revision} is in the future; the current revision is {current}");
            }
            if (options.Revision > 0)
            {
                var compacted = ReadMeta(connection, MetaCompacted);
                if (options.Revision <= compacted)
                {
                    throw new StoreCompactedException(options.Revision, compacted);
                }
            }
            return RangeCore(connection, prefix, options, current);
        }));
    }

    /// <inheritdoc />
    public async Task<PutResult> PutAsync(string key, ReadOnlyMemory<byte> value, long leaseId = 0, CancellationToken cancellationToken = default)
    {
        StoreLimits.ValidateKey(key);
        StoreLimits.ValidateValue(value);
        StoreLimits.ValidateLeaseId(leaseId);
        var result = await TxnCoreAsync(new Txn([], [new TxnOp.Put(key, value.ToArray(), leaseId)], []), cancellationToken).ConfigureAwait(false);
        return ((TxnOpResult.Put)result.Results[0]).Result;
    }

    /// <inheritdoc />
    public async Task<DeleteResult> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        StoreLimits.ValidateKey(key);
        var result = await TxnCoreAsync(new Txn([], [new TxnOp.Delete(key)], []), cancellationToken).ConfigureAwait(false);
        return ((TxnOpResult.Delete)result.Results[0]).Result;
    }

    /// <inheritdoc />
    public async Task<DeleteResult> DeletePrefixAsync(string prefix, CancellationToken cancellationToken = default)
    {
        StoreLimits.ValidatePrefix(prefix);
        var result = await TxnCoreAsync(new Txn([], [new TxnOp.DeletePrefix(prefix)], []), cancellationToken).ConfigureAwait(false);
        return ((TxnOpResult.Delete)result.Results[0]).Result;
    }

    /// <inheritdoc />
    public Task<TxnResult> TxnAsync(Txn txn, CancellationToken cancellationToken = default)
    {
        StoreLimits.ValidateTxn(txn);
        foreach (var range in txn.Success.Concat(txn.Failure).OfType<TxnOp.Range>())
        {
            ValidateRangeOptions(range.Options);
        }
        // Values are copied now: the caller may reuse its buffers as soon as this returns.
        var copy = txn with { Success = [.. txn.Success.Select(CopyOp)], Failure = [.. txn.Failure.Select(CopyOp)] };
        return TxnCoreAsync(copy, cancellationToken);
    }

    /// <inheritdoc />
    public Task<ILeadership> CampaignAsync(string election, ReadOnlyMemory<byte> value, ElectionOptions? options = null, CancellationToken cancellationToken = default) =>
        _election.CampaignAsync(election, value, options, cancellationToken);

    /// <inheritdoc />
    public Task<LeaderInfo?> GetLeaderAsync(string election, CancellationToken cancellationToken = default) =>
        _election.GetLeaderAsync(election, cancellationToken);

    /// <inheritdoc />
    public IAsyncEnumerable<LeaderInfo?> ObserveLeaderAsync(string election, CancellationToken cancellationToken = default) =>
        _election.ObserveLeaderAsync(election, cancellationToken);

    /// <inheritdoc />
    public Task CompactAsync(long revision, CancellationToken cancellationToken = default)
    {
        if (revision <= 0)
        {
            throw new ArgumentException($"compaction revision must be positive; got {revision}", nameof(revision));
        }
        return EnqueueAsync<object?>(() => { CompactCore(revision); return null; }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<long> SaveSnapshotAsync(Stream destination, CancellationToken cancellationToken = default) =>
        StoreSnapshot.SaveAsync(this, destination, cancellationToken);

    /// <inheritdoc />
    public Task RestoreSnapshotAsync(Stream source, CancellationToken cancellationToken = default) =>
        StoreSnapshot.RestoreAsync(this, source, cancellationToken);

    /// <inheritdoc />
    public Task<StoreStatus> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var (revision, compacted) = Read(connection => (ReadMeta(connection, MetaRevision), ReadMeta(connection, MetaCompacted)));
        long size = 0;
        foreach (var file in new[] { _path, _path + "-wal" })
        {
            var info = new FileInfo(file);
            size += info.Exists ? info.Length : 0;
        }
        var member = new StoreMember("sqlite", _path, Healthy: true, IsLeader: true, Error: null);
        return Task.FromResult(new StoreStatus(Kind, revision, compacted, [member], size));
    }

    /// <summary>
    /// Stops accepting calls, finishes the writes already queued, ends every watch with <see cref="ObjectDisposedException"/>,
    /// closes the database and releases the lock file. Leases are kept with their deadlines (see the class remarks).
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        _queue.Writer.TryComplete();
        await Task.Run(() => _writerThread.Join()).ConfigureAwait(false);
        await _sweeper.DisposeAsync().ConfigureAwait(false);
        await _disposing.CancelAsync().ConfigureAwait(false);
        lock (_watchGate)
        {
            foreach (var watcher in _watchers)
            {
                watcher.Close(new ObjectDisposedException(nameof(SqliteStore), $"the store {_path} was closed"));
            }
            _watchers.Clear();
        }
        _writer.Dispose();
        using (var connection = new SqliteConnection(_readConnectionString))
        {
            SqliteConnection.ClearPool(connection);
        }
        _lockFile.Dispose();
        _disposing.Dispose();
        Log.Closed(_logger, _path);
    }

    public override string ToString() => $"sqlite store {_path}";

    private static TxnOp CopyOp(TxnOp op) => op is TxnOp.Put put ? put with { Value = put.Value.ToArray() } : op;

    private static void ValidateRangeOptions(RangeOptions options)
    {
        if (options.Limit < 0)
        {
            throw new ArgumentException($"range limit must be 0 (no limit) or positive; got {options.Limit}", nameof(options));
        }
        if (options.Revision < 0)
        {
            throw new ArgumentException($"range revision must be 0 (current) or positive; got {options.Revision}", nameof(options));
        }
        if (options.After is { Length: > 0 } after)
        {
            StoreLimits.ValidateKey(after, "options.After");
        }
        if (options.Before is { Length: > 0 } before)
        {
            StoreLimits.ValidateKey(before, "options.Before");
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

    /// <summary>Runs <paramref name="read"/> in one read transaction (one consistent snapshot) on a pooled reader connection.</summary>
    private T Read<T>(Func<SqliteConnection, T> read)
    {
        ThrowIfDisposed();
        try
        {
            using var connection = new SqliteConnection(_readConnectionString);
            connection.Open();
            using var transaction = connection.BeginTransaction(deferred: true);
            var result = read(connection);
            transaction.Commit();
            return result;
        }
        catch (SqliteException e)
        {
            throw MapException(e, _path, "read");
        }
    }
}
