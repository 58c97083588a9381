using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Data.Sqlite;

namespace Corral.Store.Sqlite;

public sealed partial class SqliteStore
{
    /// <inheritdoc />
    /// <remarks>SQLite grants exactly the requested TTL rounded up to whole seconds (minimum 1 s).</remarks>
    public Task<LeaseGrant> GrantLeaseAsync(TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        var seconds = StoreLimits.ValidateTtl(ttl);
        return EnqueueAsync(() => GrantCore(seconds), cancellationToken);
    }

    /// <inheritdoc />
    public Task<LeaseInfo> KeepAliveOnceAsync(long leaseId, CancellationToken cancellationToken = default)
    {
        ValidateExistingLeaseId(leaseId);
        return EnqueueAsync(() => KeepAliveCore(leaseId), cancellationToken);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<LeaseInfo> KeepAliveAsync(long leaseId, TimeSpan interval, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ValidateExistingLeaseId(leaseId);
        if (interval <= TimeSpan.Zero)
        {
            throw new ArgumentException($"keep-alive interval must be positive; got {interval.TotalMilliseconds} ms", nameof(interval));
        }
        while (true)
        {
            var info = await KeepAliveOnceAsync(leaseId, cancellationToken).ConfigureAwait(false);
            yield return info;
            await Task.Delay(interval, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public Task RevokeLeaseAsync(long leaseId, CancellationToken cancellationToken = default)
    {
        ValidateExistingLeaseId(leaseId);
        return EnqueueAsync<object?>(
            () =>
            {
                if (!LeaseExists(leaseId))
                {
                    throw new LeaseNotFoundException(leaseId);
                }
                RemoveLease(leaseId);
                return null;
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<LeaseInfo?> GetLeaseAsync(long leaseId, CancellationToken cancellationToken = default)
    {
        ValidateExistingLeaseId(leaseId);
        cancellationToken.ThrowIfCancellationRequested();
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        return Task.FromResult(Read<LeaseInfo?>(connection =>
        {
            long ttl, expiresAt;
            using (var command = connection.CreateCommand())
            {
                command.CommandText = "SELECT ttl, expires_at FROM lease WHERE id = $id;";
                command.Parameters.AddWithValue("$id", leaseId);
                using var reader = command.ExecuteReader();
                if (!reader.Read())
                {
                    return null;
                }
                ttl = reader.GetInt64(0);
                expiresAt = reader.GetInt64(1);
            }
            if (expiresAt <= now)
            {
                // Due but not yet swept: already gone as far as callers are concerned.
                return null;
            }
            var keys = new List<string>();
            using (var command = connection.CreateCommand())
            {
                command.CommandText = "SELECT key FROM kv WHERE lease = $id ORDER BY key;";
                command.Parameters.AddWithValue("$id", leaseId);
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    keys.Add(Encoding.UTF8.GetString((byte[])reader.GetValue(0)));
                }
            }
            var remaining = TimeSpan.FromSeconds(Math.Ceiling((expiresAt - now) / 1000.0));
            return new LeaseInfo(leaseId, remaining, TimeSpan.FromSeconds(ttl), keys);
        }));
    }

    private static void ValidateExistingLeaseId(long leaseId)
    {
        if (leaseId <= 0)
        {
            throw new ArgumentException($"lease id must be positive; got {leaseId}", nameof(leaseId));
        }
    }

    private LeaseGrant GrantCore(long ttlSeconds)
    {
        long id;
        do
        {
            id = Random.Shared.NextInt64(1, long.MaxValue);
        }
        while (LeaseExists(id));
        using var command = _writer.CreateCommand();
        command.CommandText = "INSERT INTO lease (id, ttl, expires_at) VALUES ($id, $ttl, $expires);";
        command.Parameters.AddWithValue("$id", id);
        command.Parameters.AddWithValue("$ttl", ttlSeconds);
        command.Parameters.AddWithValue("$expires", _now + ttlSeconds * 1000);
        command.ExecuteNonQuery();
        _leasesChanged = true;
        return new LeaseGrant(id, TimeSpan.FromSeconds(ttlSeconds));
    }

    private LeaseInfo KeepAliveCore(long leaseId)
    {
        using var command = _writer.CreateCommand();
        command.CommandText = "UPDATE lease SET expires_at = $now + ttl * 1000 WHERE id = $id RETURNING ttl;";
        command.Parameters.AddWithValue("$id", leaseId);
        command.Parameters.AddWithValue("$now", _now);
        if (command.ExecuteScalar() is not long ttl)
        {
            throw new LeaseNotFoundException(leaseId);
        }
        _leasesChanged = true;
        var granted = TimeSpan.FromSeconds(ttl);
        return new LeaseInfo(leaseId, granted, granted, []);
    }

    private bool LeaseExists(long leaseId)
    {
        _leaseExists.Parameters[0].Value = leaseId;
        return _leaseExists.ExecuteScalar() is not null;
    }

    /// <summary>Deletes the lease and its keys (with delete events, at the current request's revision).</summary>
    private void RemoveLease(long leaseId)
    {
        var attached = new List<KeyValue>();
        using (var command = _writer.CreateCommand())
        {
            command.CommandText = $"SELECT {KvColumns} FROM kv WHERE lease = $id ORDER BY key;";
            command.Parameters.AddWithValue("$id", leaseId);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                attached.Add(ReadKv(reader, keysOnly: false));
            }
        }
        foreach (var kv in attached)
        {
            DeleteCore(kv);
        }
        using (var command = _writer.CreateCommand())
        {
            command.CommandText = "DELETE FROM lease WHERE id = $id;";
            command.Parameters.AddWithValue("$id", leaseId);
            command.ExecuteNonQuery();
        }
        _leasesChanged = true;
    }

    /// <summary>Expires every lease due at <paramref name="now"/>, each in its own revision; inside the writer's transaction.</summary>
    private int ExpireDueLeases(long now)
    {
        _dueLeases.Parameters[0].Value = now;
        var due = new List<long>();
        using (var reader = _dueLeases.ExecuteReader())
        {
            while (reader.Read())
            {
                due.Add(reader.GetInt64(0));
            }
        }
        foreach (var id in due)
        {
            _events = [];
            RemoveLease(id);
            if (_events.Count > 0)
            {
                _revision++;
                _published.Add(new WatchBatch(_revision, _events));
            }
            Log.LeaseExpired(_logger, id, _events.Count);
        }
        return due.Count;
    }

    /// <summary>Arms the sweeper for the earliest lease deadline; writer thread only.</summary>
    private void RescheduleSweeper()
    {
        object? next;
        try
        {
            next = Scalar(_writer, "SELECT MIN(expires_at) FROM lease;");
        }
        catch (SqliteException e)
        {
            // Every write batch expires due leases anyway; retry the sweep shortly rather than stop expiring leases.
            Log.SweepFailed(_logger, _path, e);
            _sweeper.Change(TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);
            return;
        }
        if (next is not long expiresAt)
        {
            _sweeper.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            return;
        }
        var due = TimeSpan.FromMilliseconds(Math.Max(0, expiresAt - _time.GetUtcNow().ToUnixTimeMilliseconds()));
        _sweeper.Change(due, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Queues an empty write: every batch starts by expiring the leases that are due.</summary>
    private void RequestSweep() => _queue.Writer.TryWrite(new SqliteWriteRequest(static () => null));
}
