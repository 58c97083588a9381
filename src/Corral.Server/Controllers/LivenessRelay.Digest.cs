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
            _digests.Clear();
            foreach (var kv in range.Kvs)
            {
                ApplyDigest(kv.Key, kv.Value);
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
                            ApplyDigest(e.Kv.Key, e.Type == WatchEventType.Put ? e.Kv.Value : null);
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

    /// <summary>Applies one digest key (null value: deleted); called under the gate. This server's own key is skipped.</summary>
    private void ApplyDigest(string key, ReadOnlyMemory<byte>? value)
    {
        var server = key[Keys.Digests.Length..];
        if (server.Length == 0 || server == _options.ServerName)
        {
            return;
        }
        if (value is not { } bytes)
        {
            _digests.Remove(server);
            return;
        }
        try
        {
            _digests[server] = Decode(bytes);
        }
        catch (Exception e) when (e is InvalidDataException or JsonException)
        {
            _digests.Remove(server);
            ControllersLog.DigestUnreadable(_logger, key, e);
        }
    }
}
