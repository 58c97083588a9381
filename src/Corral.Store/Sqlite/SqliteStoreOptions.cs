namespace Corral.Store.Sqlite;

/// <summary>Where and how <see cref="SqliteStore"/> keeps the cluster database.</summary>
public sealed record SqliteStoreOptions
{
    /// <value>Directory that holds the database file, its write-ahead log and its lock file; created when missing. Required.</value>
    public string DataDirectory { get; init; } = "";

    /// <value>
    /// Name of the database file inside <see cref="DataDirectory"/>. SQLite keeps <c>NAME-wal</c> and <c>NAME-shm</c>
    /// beside it, and the store holds <c>NAME.lock</c> while open. Default <c>store.db</c>.
    /// </value>
    public string FileName { get; init; } = "store.db";

    /// <value>Durability of acknowledged writes. Default <see cref="SqliteSynchronousMode.Full"/>.</value>
    public SqliteSynchronousMode Synchronous { get; init; } = SqliteSynchronousMode.Full;

    /// <value>
    /// How long an operation waits for a database lock held by another connection (another process that opened the
    /// file with SQLite directly) before failing with <see cref="StoreCorruptException"/>. Whole seconds, 1 to 300. Default 5 s.
    /// </value>
    public TimeSpan BusyTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <value>
    /// Most write calls committed together in one transaction (one fsync) when callers write concurrently. 1 to 10,000.
    /// Default 256.
    /// </value>
    public int MaxWriteBatch { get; init; } = 256;

    /// <value>
    /// Revisions a watcher may have waiting in memory before it falls back to reading the revision log (so a slow
    /// consumer costs disk reads, never lost events or unbounded memory). 16 to 1,000,000. Default 4,096.
    /// </value>
    public int WatchQueueCapacity { get; init; } = 4096;

    /// <value>Run SQLite's <c>PRAGMA quick_check</c> when opening, so a damaged file is reported at once. Default true.</value>
    public bool CheckIntegrityOnOpen { get; init; } = true;

    /// <summary>The database file's full path.</summary>
    public string DatabasePath => Path.GetFullPath(Path.Combine(DataDirectory, FileName));

    /// <summary>Returns every problem with these options, each naming its field; empty when they are valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(DataDirectory))
        {
            errors.Add("DataDirectory is required");
        }
        if (string.IsNullOrWhiteSpace(FileName) || FileName.IndexOfAny(['/', '\\', '\0']) >= 0 || FileName is "." or "..")
        {
            errors.Add($"FileName '{FileName}' must be a plain file name (no directory separators)");
        }
        if (!Enum.IsDefined(Synchronous))
        {
            errors.Add($"Synchronous {(int)Synchronous} is not Full or Normal");
        }
        if (BusyTimeout < TimeSpan.FromSeconds(1) || BusyTimeout > TimeSpan.FromSeconds(300) || BusyTimeout.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            errors.Add($"BusyTimeout {BusyTimeout.TotalSeconds} s must be whole seconds from 1 to 300");
        }
        if (MaxWriteBatch is < 1 or > 10_000)
        {
            errors.Add($"MaxWriteBatch {MaxWriteBatch} must be from 1 to 10000");
        }
        if (WatchQueueCapacity is < 16 or > 1_000_000)
        {
            errors.Add($"WatchQueueCapacity {WatchQueueCapacity} must be from 16 to 1000000");
        }
        return errors;
    }

    /// <summary>Throws <see cref="ArgumentException"/> listing every problem when these options are not valid.</summary>
    public void ThrowIfInvalid()
    {
        var errors = Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("invalid SqliteStoreOptions: " + string.Join("; ", errors), "options");
        }
    }
}
