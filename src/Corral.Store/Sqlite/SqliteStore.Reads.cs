using System.Text;
using Microsoft.Data.Sqlite;

namespace Corral.Store.Sqlite;

public sealed partial class SqliteStore
{
    private const string KvColumns = "key, value, create_rev, mod_rev, version, lease";

    /// <summary>Keys are stored as their UTF-8 bytes (BLOB), so SQLite orders them by bytes, as etcd does.</summary>
    private static byte[] KeyBytes(string key) => Encoding.UTF8.GetBytes(key);

    /// <summary>The smallest byte string greater than every key that starts with <paramref name="prefix"/>; null when there is none.</summary>
    private static byte[]? PrefixEnd(byte[] prefix)
    {
        var end = (byte[])prefix.Clone();
        for (var i = end.Length - 1; i >= 0; i--)
        {
            if (end[i] < 0xFF)
            {
                end[i]++;
                return end[..(i + 1)];
            }
        }
        return null;
    }

    private static KeyValue? SelectKey(SqliteConnection connection, byte[] key)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {KvColumns} FROM kv WHERE key = $key;";
        command.Parameters.AddWithValue("$key", key);
        using var reader = command.ExecuteReader();
        return reader.Read() ? ReadKv(reader, keysOnly: false) : null;
    }

    private static KeyValue ReadKv(SqliteDataReader reader, bool keysOnly) => new(
        Encoding.UTF8.GetString((byte[])reader.GetValue(0)),
        keysOnly ? ReadOnlyMemory<byte>.Empty : (byte[])reader.GetValue(1),
        reader.GetInt64(2),
        reader.GetInt64(3),
        reader.GetInt64(4),
        reader.GetInt64(5));

    /// <summary>
    /// Reads a prefix at <c>options.Revision</c> (0: <paramref name="current"/>). A past revision is rebuilt from the key
    /// table and the log: a key unchanged since then is as it is now; a key changed since then was, at that revision, what
    /// the first later log entry of that key recorded as its previous state.
    /// </summary>
    private static RangeResult RangeCore(SqliteConnection connection, string prefix, RangeOptions options, long current)
    {
        var lo = KeyBytes(prefix);
        var hi = lo.Length == 0 ? null : PrefixEnd(lo);
        var conditions = new List<string>();
        if (lo.Length > 0)
        {
            conditions.Add("key >= $lo");
        }
        if (hi is not null)
        {
            conditions.Add("key < $hi");
        }
        if (options.After is { Length: > 0 })
        {
            conditions.Add("key > $after");
        }
        if (options.Before is { Length: > 0 })
        {
            conditions.Add("key < $before");
        }
        var where = conditions.Count == 0 ? "1 = 1" : string.Join(" AND ", conditions);
        var revision = options.Revision == 0 ? current : options.Revision;
        var source = revision == current
            ? $"SELECT {KvColumns} FROM kv WHERE {where}"
            : $"""
               SELECT {KvColumns} FROM kv WHERE {where} AND mod_rev <= $rev
               UNION ALL
               SELECT key, prev_value, prev_create_rev, prev_mod_rev, prev_version, prev_lease FROM log AS l
               WHERE {where} AND rev > $rev AND prev_create_rev IS NOT NULL
                 AND rev = (SELECT MIN(l2.rev) FROM log AS l2 WHERE l2.key = l.key AND l2.rev > $rev)
               """;

        void Bind(SqliteCommand command)
        {
            command.Parameters.AddWithValue("$lo", lo);
            command.Parameters.AddWithValue("$hi", (object?)hi ?? DBNull.Value);
            command.Parameters.AddWithValue("$after", options.After is { Length: > 0 } after ? KeyBytes(after) : DBNull.Value);
            command.Parameters.AddWithValue("$before", options.Before is { Length: > 0 } before ? KeyBytes(before) : DBNull.Value);
            command.Parameters.AddWithValue("$rev", revision);
        }

        long count;
        using (var command = connection.CreateCommand())
        {
            command.CommandText = $"SELECT COUNT(*) FROM ({source});";
            Bind(command);
            count = (long)command.ExecuteScalar()!;
        }

        var kvs = new List<KeyValue>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = $"SELECT * FROM ({source}) ORDER BY key" + (options.Descending ? " DESC" : "") + (options.Limit > 0 ? " LIMIT $limit;" : ";");
            Bind(command);
            command.Parameters.AddWithValue("$limit", options.Limit);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                kvs.Add(ReadKv(reader, options.KeysOnly));
            }
        }
        return new RangeResult(kvs, current, options.Limit > 0 && count > kvs.Count, count);
    }
}
