namespace Corral.Store.Sqlite;

/// <summary>How hard SQLite works to make each committed write survive a power loss (SQLite's <c>PRAGMA synchronous</c>).</summary>
public enum SqliteSynchronousMode
{
    /// <summary>
    /// Every commit is fsynced to the write-ahead log before the write is acknowledged: an acknowledged write survives
    /// a process crash and a power loss. The default.
    /// </summary>
    Full,

    /// <summary>
    /// The write-ahead log is fsynced only at checkpoints: an acknowledged write survives a process crash, but the last
    /// writes before a power loss or kernel crash may be lost (the database stays consistent). Much faster for small
    /// sequential writes.
    /// </summary>
    Normal,
}
