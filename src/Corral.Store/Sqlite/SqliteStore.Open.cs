using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Corral.Store.Sqlite;

public sealed partial class SqliteStore
{
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS meta (
            name  TEXT PRIMARY KEY,
            value INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS kv (
            key        BLOB PRIMARY KEY,
            value      BLOB NOT NULL,
            create_rev INTEGER NOT NULL,
            mod_rev    INTEGER NOT NULL,
            version    INTEGER NOT NULL,
            lease      INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS kv_lease ON kv (lease) WHERE lease <> 0;
        CREATE TABLE IF NOT EXISTS log (
            rev             INTEGER NOT NULL,
            seq             INTEGER NOT NULL,
            type            INTEGER NOT NULL,
            key             BLOB NOT NULL,
            value           BLOB NOT NULL,
            create_rev      INTEGER NOT NULL,
            version         INTEGER NOT NULL,
            lease           INTEGER NOT NULL,
            prev_value      BLOB,
            prev_create_rev INTEGER,
            prev_mod_rev    INTEGER,
            prev_version    INTEGER,
            prev_lease      INTEGER,
            PRIMARY KEY (rev, seq)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS log_key_rev ON log (key, rev);
        CREATE TABLE IF NOT EXISTS lease (
            id         INTEGER PRIMARY KEY,
            ttl        INTEGER NOT NULL,
            expires_at INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS lease_expires ON lease (expires_at);
        INSERT OR IGNORE INTO meta (name, value) VALUES ('schema', 1), ('revision', 1), ('compacted', 0);
        """;

    private static FileStream AcquireLockFile(SqliteStoreOptions options, string path)
    {
        var lockPath = path + ".lock";
        try
        {
            Directory.CreateDirectory(Path.GetFullPath(options.DataDirectory));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StoreUnavailableException($"cannot create the store directory {Path.GetFullPath(options.DataDirectory)} for {path}: {e.Message}", e);
        }
        try
        {
            // FileShare.None takes an exclusive advisory lock (flock) held until the store is disposed, so a second
            // SqliteStore on the same file, in this process or another, fails here instead of corrupting it.
            var stream = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            stream.SetLength(0);
            var pid = System.Text.Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n");
            stream.Write(pid);
            stream.Flush();
            return stream;
        }
        catch (IOException e)
        {
            throw new StoreCorruptException($"store database {path} is already open in another SqliteStore (its lock file {lockPath} is held; only one store, in one process, may use a database file at a time): {e.Message}", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new StoreCorruptException($"store database {path}: cannot create or open its lock file {lockPath} (read-only directory?): {e.Message}", e);
        }
    }

    private static SqliteConnection OpenWriter(SqliteStoreOptions options, string path)
    {
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
            DefaultTimeout = (int)options.BusyTimeout.TotalSeconds,
        }.ToString();
        var connection = new SqliteConnection(connectionString);
        try
        {
            connection.Open();
            var mode = Scalar(connection, "PRAGMA journal_mode = WAL;") as string;
            if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
            {
                throw new StoreCorruptException($"store database {path}: cannot switch to WAL mode (journal mode stays '{mode}'; read-only file or directory?)");
            }
            Execute(connection, options.Synchronous == SqliteSynchronousMode.Full ? "PRAGMA synchronous = FULL;" : "PRAGMA synchronous = NORMAL;");
            if (options.CheckIntegrityOnOpen)
            {
                var check = Scalar(connection, "PRAGMA quick_check;") as string;
                if (!string.Equals(check, "ok", StringComparison.Ordinal))
                {
                    throw new StoreCorruptException($"store database {path} is corrupt: PRAGMA quick_check says: {check}");
                }
            }
            Execute(connection, "BEGIN IMMEDIATE;" + Schema + "COMMIT;");
            return connection;
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            throw MapException(e, path, "open");
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Recovers leases after a restart, schedules the sweeper and starts the writer thread.</summary>
    private void Initialize()
    {
        try
        {
            var schema = ReadMeta(_writer, "schema");
            if (schema != 1)
            {
                throw new StoreCorruptException($"store database {_path} has schema version {schema}; this build reads version 1");
            }
            _revision = ReadMeta(_writer, MetaRevision);
            PrepareWriterCommands();

            // A lease never outlives its TTL counted from this open: its owner may have gone with the previous process.
            _now = _time.GetUtcNow().ToUnixTimeMilliseconds();
            _begin.ExecuteNonQuery();
            Execute(_writer, $"UPDATE lease SET expires_at = MIN(expires_at, {_now} + ttl * 1000);");
            var expired = ExpireDueLeases(_now);
            _setRevision.Parameters[0].Value = _revision;
            _setRevision.ExecuteNonQuery();
            _commit.ExecuteNonQuery();
            _published.Clear();
            _lastPublished = _revision;
            if (expired > 0)
            {
                Log.LeasesExpiredOnOpen(_logger, _path, expired);
            }
            RescheduleSweeper();
        }
        catch (SqliteException e)
        {
            throw MapException(e, _path, "open");
        }
        _writerThread.Start();
        Log.Opened(_logger, _path, _revision, _options.Synchronous.ToString());
    }

    /// <summary>Turns a SQLite error into the store's exception, naming the file and what is wrong with it.</summary>
    private static StoreException MapException(SqliteException e, string path, string during)
    {
        var code = e.SqliteErrorCode & 0xFF;
        return code switch
        {
            5 or 6 => new StoreCorruptException($"store database {path} is locked by another process (SQLite: {e.Message}); {during} failed", e),
            8 => new StoreCorruptException($"store database {path} is read-only (SQLite: {e.Message}); check the file's and directory's permissions and attributes", e),
            11 or 26 => new StoreCorruptException($"store database {path} is corrupt or not a SQLite database (SQLite: {e.Message})", e),
            13 => new StoreUnavailableException($"store database {path}: the disk is full (SQLite: {e.Message})", e),
            14 => new StoreUnavailableException($"store database {path} cannot be opened (SQLite: {e.Message})", e),
            10 => new StoreUnavailableException($"store database {path}: I/O error (SQLite: {e.Message})", e),
            _ => new StoreUnavailableException($"store database {path}: {during} failed (SQLite: {e.Message})", e),
        };
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    private static long ReadMeta(SqliteConnection connection, string name)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT value FROM meta WHERE name = $name;";
        command.Parameters.AddWithValue("$name", name);
        return command.ExecuteScalar() is long value ? value : throw new StoreCorruptException($"store database {connection.DataSource}: meta row '{name}' is missing");
    }
}
