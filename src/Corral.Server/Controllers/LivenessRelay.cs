using System.Text;
using Corral.Server.Leadership;
using Corral.Server.State;
using Corral.Store;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Corral.Server.Controllers;

/// <summary>
/// Shares node liveness between the servers of a cluster on a shared store, so the leader's <see cref="NodeMonitor"/>
/// hears of nodes that heartbeat to another server. Runs on every server; does nothing on the embedded SQLite store,
/// which has exactly one server.
/// </summary>
/// <remarks>
/// Each server holds one lease and, while a node heartbeats to it, the key <c>/corral/liveness/NODE/SERVER</c>
/// attached to that lease: one write when a node starts talking to the server, one when it has been silent there for
/// <see cref="Silence"/>, none in between (a lease keep-alive is not a store write). A server that dies takes its keys
/// with its lease. Every server watches the prefix and feeds <see cref="HeartbeatTable.RecordRelayed"/>: a node with a
/// key counts as seen now; when its last key goes, as last seen <see cref="Silence"/> earlier.
/// <para>Node stats and replica reports travel as one digest per server (see LivenessRelay.Digest.cs).</para>
/// </remarks>
public sealed partial class LivenessRelay : BackgroundService
{
    private readonly IClusterStore _store;
    private readonly HeartbeatTable _heartbeats;
    private readonly ControlPlaneOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<LivenessRelay> _logger;
    private readonly Dictionary<string, HashSet<string>> _present = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly HashSet<string> _published = new(StringComparer.Ordinal);
    private long _lease;
    private DateTimeOffset _renewedAt;

    public LivenessRelay(IClusterStore store, HeartbeatTable heartbeats, ControlPlaneOptions options, TimeProvider time, ILogger<LivenessRelay> logger)
    {
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _heartbeats = heartbeats ?? throw new ArgumentNullException(nameof(heartbeats));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    /// <summary>How often published keys and relayed liveness are brought up to date: a fifth of the grace, 100 ms to 1 s.</summary>
    public TimeSpan Interval => TimeSpan.FromTicks(Math.Clamp(_options.HeartbeatGrace.Ticks / 5, TimeSpan.TicksPerMillisecond * 100, TimeSpan.TicksPerSecond));

    /// <summary>A node silent on this server for this long (half the heartbeat grace) is no longer relayed by it.</summary>
    public TimeSpan Silence => _options.HeartbeatGrace / 2;

    /// <summary>TTL of this server's liveness lease: the heartbeat grace in whole seconds, at least 2 s.</summary>
    public TimeSpan LeaseTtl => TimeSpan.FromSeconds(Math.Max(2, Math.Ceiling(_options.HeartbeatGrace.TotalSeconds)));

    /// <summary>Nodes this server currently relays (for tests and diagnostics).</summary>
    public IReadOnlyCollection<string> Published
    {
        get
        {
            lock (_gate)
            {
                return [.. _published];
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_store.Kind == "sqlite")
        {
            return;
        }
        var watching = Task.Run(() => WatchLoopAsync(stoppingToken), stoppingToken);
        var watchingDigests = Task.Run(() => WatchDigestsLoopAsync(stoppingToken), stoppingToken);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await PublishOnceAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    break;
                }
                catch (LeaseNotFoundException)
                {
                    // The lease expired (the store was unreachable for its TTL): its keys are gone; start over.
                    ResetLease();
                }
                catch (Exception e) when (e is StoreException or IOException or HttpRequestException or OperationCanceledException)
                {
                    ControllersLog.RelayFailed(_logger, e);
                }
                RefreshRelayed();
                await Task.Delay(Interval, _time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
        finally
        {
            await watching.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await watchingDigests.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await RevokeQuietlyAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Publishes the keys of nodes that heartbeat here and deletes those of nodes gone silent; renews the lease when due.</summary>
    internal async Task PublishOnceAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        if (_lease == 0)
        {
            var grant = await _store.GrantLeaseAsync(LeaseTtl, cancellationToken).ConfigureAwait(false);
            _lease = grant.Id;
            _renewedAt = now;
        }
        else if (now - _renewedAt >= LeaseTtl / 3)
        {
            await _store.KeepAliveOnceAsync(_lease, cancellationToken).ConfigureAwait(false);
            _renewedAt = now;
        }
        var live = _heartbeats.DirectNodes().Where(n => now - n.LastSeen < Silence).Select(n => n.Node).ToHashSet(StringComparer.Ordinal);
        string[] added, removed;
        lock (_gate)
        {
            added = [.. live.Where(n => !_published.Contains(n))];
            removed = [.. _published.Where(n => !live.Contains(n))];
        }
        var me = Encoding.UTF8.GetBytes(_options.ServerName);
        foreach (var node in added)
        {
            await _store.PutAsync(Keys.NodeLiveness(node, _options.ServerName), me, _lease, cancellationToken).ConfigureAwait(false);
            lock (_gate)
            {
                _published.Add(node);
            }
            ControllersLog.RelayChanged(_logger, node, true);
        }
        foreach (var node in removed)
        {
            await _store.DeleteAsync(Keys.NodeLiveness(node, _options.ServerName), cancellationToken).ConfigureAwait(false);
            lock (_gate)
            {
                _published.Remove(node);
            }
            ControllersLog.RelayChanged(_logger, node, false);
        }
        await PublishDigestAsync(now, cancellationToken).ConfigureAwait(false);
    }

    private void ResetLease()
    {
        _lease = 0;
        lock (_gate)
        {
            _published.Clear();
        }
        _digestPublished = null;
    }

    /// <summary>Every node another server relays counts as seen now.</summary>
    private void RefreshRelayed()
    {
        var now = _time.GetUtcNow();
        string[] nodes;
        lock (_gate)
        {
            nodes = [.. _present.Where(p => p.Value.Count > 0).Select(p => p.Key)];
        }
        foreach (var node in nodes)
        {
            _heartbeats.RecordRelayed(node, now);
        }
    }

    private async Task WatchLoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var range = await _store.RangeAsync(Keys.Liveness, null, cancellationToken).ConfigureAwait(false);
                lock (_gate)
                {
                    var before = _present.Where(p => p.Value.Count > 0).Select(p => p.Key).ToList();
                    _present.Clear();
                    foreach (var kv in range.Kvs)
                    {
                        Apply(kv.Key, present: true);
                    }
                    foreach (var node in before.Where(n => !_present.TryGetValue(n, out var servers) || servers.Count == 0))
                    {
                        Gone(node);
                    }
                }
                RefreshRelayed();
                await foreach (var batch in _store.WatchAsync(Keys.Liveness, range.Revision + 1, cancellationToken).ConfigureAwait(false))
                {
                    lock (_gate)
                    {
                        foreach (var e in batch.Events)
                        {
                            Apply(e.Kv.Key, e.Type == WatchEventType.Put);
                        }
                    }
                    RefreshRelayed();
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is StoreException or IOException or HttpRequestException)
            {
                ControllersLog.WatchFailed(_logger, "liveness-relay", e);
                await Task.Delay(TimeSpan.FromMilliseconds(200), _time, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>Applies one key's presence; called under the gate.</summary>
    private void Apply(string key, bool present)
    {
        var rest = key[Keys.Liveness.Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash == rest.Length - 1)
        {
            return;
        }
        var node = rest[..slash];
        var server = rest[(slash + 1)..];
        if (server == _options.ServerName)
        {
            return;
        }
        if (!_present.TryGetValue(node, out var servers))
        {
            _present[node] = servers = new HashSet<string>(StringComparer.Ordinal);
        }
        if (present)
        {
            servers.Add(server);
        }
        else if (servers.Remove(server) && servers.Count == 0)
        {
            Gone(node);
        }
    }

    /// <summary>The last server relaying a node stopped: it was last heard of about <see cref="Silence"/> ago.</summary>
    private void Gone(string node) => _heartbeats.RecordRelayed(node, _time.GetUtcNow() - Silence);

    private async Task RevokeQuietlyAsync()
    {
        if (_lease == 0)
        {
            return;
        }
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2), _time);
            await _store.RevokeLeaseAsync(_lease, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is StoreException or IOException or HttpRequestException or OperationCanceledException or ObjectDisposedException)
        {
            // The lease expires by itself.
        }
        ResetLease();
    }
}
