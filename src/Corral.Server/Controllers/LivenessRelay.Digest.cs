using System.IO.Compression;
using System.Text.Json;
using Corral.Core;
using Corral.Core.Api;
using Corral.Server.State;
using Corral.Store;

namespace Corral.Server.Controllers;

/// <remarks>
/// <b>Digests.</b> Each server keeps <c>/corral/digests/SERVER</c> (gzipped <see cref="NodeDigest"/> JSON) attached to
/// its liveness lease: the stats and replica reports of the last heartbeat of every node that heartbeat to it within
/// <see cref="Silence"/>. It is written once when the lease is granted (so the other servers know it exists), then only
/// while another server's digest key exists, at most once per <see cref="DigestInterval"/>, and only when the digest
/// changed other than in heartbeat times: a server alone on its store writes it once, a server with no nodes never
/// again. Every server watches the prefix and hands the other servers' digests to
/// <see cref="HeartbeatTable.UseRelayed"/>, which keeps the latest heartbeat of each node.
/// </remarks>
public sealed partial class LivenessRelay
{
    private readonly Dictionary<string, NodeDigest> _digests = new(StringComparer.Ordinal);
    private readonly HashSet<string> _unreadable = new(StringComparer.Ordinal);
    private byte[]? _digestPublished;
    private DateTimeOffset _digestAt;

    /// <summary>Shortest time between two digest writes of this server: 2 s.</summary>
    public static TimeSpan DigestInterval { get; } = TimeSpan.FromSeconds(2);

    /// <summary>Servers whose digests this server holds now (for tests and diagnostics).</summary>
    public IReadOnlyCollection<string> DigestPeers
    {
        get
        {
            lock (_gate)
            {
                return [.. _digests.Keys];
            }
        }
    }

    /// <summary>Writes this server's digest when it is due (see the remarks on digests); needs the lease.</summary>
    internal async Task PublishDigestAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var entries = _heartbeats.Digest(now, Silence);
        // Heartbeat times alone do not make a digest worth a write: liveness travels through the liveness keys.
        var fingerprint = JsonSerializer.SerializeToUtf8Bytes(
            new NodeDigest(_options.ServerName, [.. entries.Select(e => e with { LastSeen = default })]), CoreJson.Default.NodeDigest);
        if (_digestPublished is not null)
        {
            bool alone;
            lock (_gate)
            {
                alone = _digests.Count == 0;
            }
            if (alone || now - _digestAt < DigestInterval || fingerprint.AsSpan().SequenceEqual(_digestPublished))
            {
                return;
            }
        }
        await _store.PutAsync(Keys.NodeDigest(_options.ServerName), Encode(new NodeDigest(_options.ServerName, entries)), _lease, cancellationToken).ConfigureAwait(false);
        _digestPublished = fingerprint;
        _digestAt = now;
    }

    /// <summary>A digest as stored: gzipped JSON.</summary>
    public static byte[] Encode(NodeDigest digest)
    {
        ArgumentNullException.ThrowIfNull(digest);
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        {
            JsonSerializer.Serialize(gzip, digest, CoreJson.Default.NodeDigest);
        }
        return buffer.ToArray();
    }

    /// <summary>Reads a stored digest; throws <see cref="InvalidDataException"/> or <see cref="JsonException"/> when it is not one.</summary>
    public static NodeDigest Decode(ReadOnlyMemory<byte> value)
    {
        using var gzip = new GZipStream(new MemoryStream(value.ToArray()), CompressionMode.Decompress);
        return JsonSerializer.Deserialize(gzip, CoreJson.Default.NodeDigest) ?? throw new InvalidDataException("the digest is null");
    }

    /// <summary>Reads every other server's digest (replacing what was held) and hands them to the heartbeat table; returns the store revision read at.</summary>
    internal async Task<long> LoadDigestsAsync(CancellationToken cancellationToken)
    {
        var range = await _store.RangeAsync(Keys.Digests, null, cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            var held = _digests.Keys.ToList();
            _digests.Clear();
            foreach (var kv in range.Kvs)
            {
                ApplyDigest(kv.Key, kv.Value);
            }
            // Deletions missed while the watch was down (a server stopped or its lease expired meanwhile).
            foreach (var server in held.Where(s => !_digests.ContainsKey(s)))
            {
                ControllersLog.DigestGone(_logger, server);
            }
            _heartbeats.UseRelayed([.. _digests.Values]);
        }
        return range.Revision;
    }

    private async Task WatchDigestsLoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var revision = await LoadDigestsAsync(cancellationToken).ConfigureAwait(false);
                await foreach (var batch in _store.WatchAsync(Keys.Digests, revision + 1, cancellationToken).ConfigureAwait(false))
                {
                    lock (_gate)
                    {
                        foreach (var e in batch.Events)
                        {
                            if (e.Type == WatchEventType.Delete)
                            {
                                RemoveDigest(e.Kv.Key);
                            }
                            else
                            {
                                ApplyDigest(e.Kv.Key, e.Kv.Value);
                            }
                        }
                        _heartbeats.UseRelayed([.. _digests.Values]);
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is StoreException or IOException or HttpRequestException)
            {
                ControllersLog.WatchFailed(_logger, "liveness-relay-digests", e);
                await Task.Delay(TimeSpan.FromMilliseconds(200), _time, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>
    /// Takes one server's digest as stored now; called under the gate. This server's own key is skipped. A digest that
    /// cannot be read is dropped and reported once, until that server stores a readable one again.
    /// </summary>
    private void ApplyDigest(string key, ReadOnlyMemory<byte> value)
    {
        if (ServerOf(key) is not { } server)
        {
            return;
        }
        try
        {
            _digests[server] = Decode(value);
            _unreadable.Remove(server);
        }
        catch (Exception e) when (e is InvalidDataException or JsonException)
        {
            _digests.Remove(server);
            if (_unreadable.Add(server))
            {
                ControllersLog.DigestUnreadable(_logger, key, value.Length, e.Message);
            }
        }
    }

    /// <summary>
    /// Drops a deleted digest; called under the gate. A deletion is expected: the server stopped (and revoked its lease)
    /// or could not renew its lease in time, and its keys went with it.
    /// </summary>
    private void RemoveDigest(string key)
    {
        if (ServerOf(key) is not { } server)
        {
            return;
        }
        _unreadable.Remove(server);
        if (_digests.Remove(server))
        {
            ControllersLog.DigestGone(_logger, server);
        }
    }

    /// <summary>The server a digest key belongs to; null for this server's own key and for the bare prefix.</summary>
    private string? ServerOf(string key)
    {
        var server = key[Keys.Digests.Length..];
        return server.Length == 0 || server == _options.ServerName ? null : server;
    }
}
