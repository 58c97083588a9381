using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Corral.Core;
using Corral.Core.Cluster;
using Corral.Server.Leadership;
using Corral.Server.State;
using Corral.Store;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Corral.Server.Controllers;

/// <summary>
/// Puts the liveness of the nodes that heartbeat to this server on record in the store, so that the leader's
/// <see cref="NodeMonitor"/> hears of nodes that heartbeat to another server, and so that one guarded record decides
/// whether a node is down: the leader marks a node down only in a transaction that finds no liveness key for it.
/// Runs on every server, on either store.
/// </summary>
/// <remarks>
/// Each server holds one lease and, while a node heartbeats to it, the key <c>/corral/liveness/NODE/SERVER</c>
/// attached to that lease: one write when a node starts talking to the server, one when it has been silent there for
/// <see cref="Silence"/>, none in between (a lease keep-alive is not a store write). A server that dies or is cut off
/// from the store loses its keys with its lease. Every server watches the prefix and feeds
/// <see cref="HeartbeatTable.RecordRelayed"/>: a node with a key counts as seen now; when its last key goes, as last
/// seen <see cref="Silence"/> earlier.
/// <para>
/// <b>Vouching.</b> The heartbeat endpoint answers a heartbeat only once <see cref="VouchAsync"/> has the node's key in
/// the store under a lease that certainly outlives the heartbeat by <see cref="Silence"/> (its last acknowledged
/// keep-alive was sent less than <c>TTL − Silence − </c><see cref="FreshMargin"/> ago). So whenever the key goes — deleted
/// after <see cref="Silence"/> without a heartbeat here, or expired with the lease — the leader's idea of the node's
/// last heartbeat (the moment the key went, less <see cref="Silence"/>) is no earlier than any heartbeat this server
/// answered, and its eviction clock cannot start before the agent's fence clock. A key is put and deleted under a lock
/// per node, and a key is deleted only after the node was found silent again under that lock, so a heartbeat answered
/// on an existing key is never left without one.
/// </para>
/// <para>Node stats and replica reports travel as one digest per server (see LivenessRelay.Digest.cs).</para>
/// </remarks>
public sealed partial class LivenessRelay : BackgroundService
{
    /// <summary>How much longer than <see cref="Silence"/> the lease must certainly live for a heartbeat to be vouched for: 500 ms.</summary>
    public static readonly TimeSpan FreshMargin = TimeSpan.FromMilliseconds(500);

    private readonly IClusterStore _store;
    private readonly HeartbeatTable _heartbeats;
    private readonly ControlPlaneOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<LivenessRelay> _logger;
    private readonly Dictionary<string, HashSet<string>> _present = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>Nodes whose key this server has put, each with the revision of the put. Under <see cref="_gate"/>.</summary>
    private readonly Dictionary<string, long> _published = new(StringComparer.Ordinal);

    /// <summary>One lock per node: its key's put and delete never overlap.</summary>
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _nodeLocks = new(StringComparer.Ordinal);

    /// <summary>Grants and keep-alives of the lease, one at a time.</summary>
    private readonly SemaphoreSlim _leaseLock = new(1, 1);

    /// <summary>The lease, 0 before the grant. Read and written under <see cref="_gate"/>.</summary>
    private long _lease;

    /// <summary>When the last acknowledged grant or keep-alive of <see cref="_lease"/> was sent. Under <see cref="_gate"/>.</summary>
    private DateTimeOffset _leaseSentAt;

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

    /// <summary>How long after the send of its last acknowledged keep-alive the lease still vouches for a heartbeat.</summary>
    public TimeSpan VouchWindow => LeaseTtl - Silence - FreshMargin;

    /// <summary>How often the lease is kept alive: a third of <see cref="VouchWindow"/>, at most <see cref="Interval"/>.</summary>
    public TimeSpan KeepAliveEvery => VouchWindow / 3 < Interval ? VouchWindow / 3 : Interval;

    /// <summary>Nodes this server currently relays (for tests and diagnostics).</summary>
    public IReadOnlyCollection<string> Published
    {
        get
        {
            lock (_gate)
            {
                return [.. _published.Keys];
            }
        }
    }

    /// <summary>
    /// Makes sure the node's liveness key is in the store under a lease that vouches for a heartbeat received now (see
    /// the remarks): at once when it is; otherwise keeps the lease alive and/or puts the key (one transaction that also
    /// reads the node's record). Returns the revision from which the key is certainly in the store and, when this call
    /// put it, the node's record read in the same transaction. Throws <see cref="StoreException"/> (or a cancellation)
    /// when the store does not let this server vouch: the heartbeat must not be answered as on record.
    /// </summary>
    public async Task<LivenessVouch> VouchAsync(string node, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(node);
        if (TryVouch(node) is { } vouched)
        {
            return vouched;
        }
        var nodeLock = _nodeLocks.GetOrAdd(node, _ => new SemaphoreSlim(1, 1));
        await nodeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (TryVouch(node) is { } meanwhile)
            {
                return meanwhile;
            }
            return await PutKeyAsync(node, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            nodeLock.Release();
        }
    }

    /// <summary>The vouch from the key already put, when the lease is fresh; null otherwise.</summary>
    private LivenessVouch? TryVouch(string node)
    {
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            return _published.TryGetValue(node, out var revision) && _lease != 0 && now - _leaseSentAt <= VouchWindow
                ? new LivenessVouch(revision, null)
                : null;
        }
    }

    /// <summary>Puts the node's key (keeping the lease alive first when it is not fresh); called under the node's lock.</summary>
    private async Task<LivenessVouch> PutKeyAsync(string node, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var lease = await EnsureLeaseAsync(fresh: true, cancellationToken).ConfigureAwait(false);
            var txn = Txn.If().Then(
                new TxnOp.Put(Keys.NodeLiveness(node, _options.ServerName), Encoding.UTF8.GetBytes(_options.ServerName), lease),
                new TxnOp.Get(Keys.Node(node)));
            TxnResult result;
            try
            {
                result = await _store.TxnAsync(txn, cancellationToken).ConfigureAwait(false);
            }
            catch (LeaseNotFoundException) when (attempt == 0)
            {
                // The lease expired (the store was out of reach for its TTL): its keys are gone; start over on a new one.
                ResetLease(lease);
                continue;
            }
            Versioned<Node>? record = null;
            if (result.Results.Count > 1 && result.Results[1] is TxnOpResult.Range { Result.Kvs: [var kv] })
            {
                record = new Versioned<Node>(JsonSerializer.Deserialize(kv.Value.Span, CoreJson.Default.Node)!, kv.ModRevision);
            }
            bool added;
            lock (_gate)
            {
                added = _published.TryAdd(node, result.Revision);
                _published[node] = result.Revision;
            }
            if (added)
            {
                ControllersLog.RelayChanged(_logger, node, true);
            }
            return new LivenessVouch(result.Revision, record);
        }
    }

    /// <summary>
    /// Returns the lease, granting one when there is none and keeping it alive when its last acknowledged keep-alive
    /// was sent <see cref="KeepAliveEvery"/> ago or more (with <paramref name="fresh"/>: when it no longer vouches).
    /// </summary>
    private async Task<long> EnsureLeaseAsync(bool fresh, CancellationToken cancellationToken)
    {
        await _leaseLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            long lease;
            DateTimeOffset sentAt;
            lock (_gate)
            {
                lease = _lease;
                sentAt = _leaseSentAt;
            }
            var now = _time.GetUtcNow();
            if (lease != 0 && now - sentAt < (fresh ? VouchWindow : KeepAliveEvery))
            {
                return lease;
            }
            if (lease == 0)
            {
                var grant = await _store.GrantLeaseAsync(LeaseTtl, cancellationToken).ConfigureAwait(false);
                lock (_gate)
                {
                    _lease = grant.Id;
                    _leaseSentAt = now;
                }
                return grant.Id;
            }
            try
            {
                await _store.KeepAliveOnceAsync(lease, cancellationToken).ConfigureAwait(false);
            }
            catch (LeaseNotFoundException)
            {
                ResetLease(lease);
                throw;
            }
            lock (_gate)
            {
                if (_lease == lease)
                {
                    _leaseSentAt = now;
                }
            }
            return lease;
        }
        finally
        {
            _leaseLock.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
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
                    // The lease expired (the store was unreachable for its TTL): its keys are gone; PublishOnce starts over.
                }
                catch (Exception e) when (e is StoreException or IOException or HttpRequestException or OperationCanceledException)
                {
                    ControllersLog.RelayFailed(_logger, e);
                }
                RefreshRelayed();
                var wait = KeepAliveEvery < Interval ? KeepAliveEvery : Interval;
                await Task.Delay(wait, _time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
        finally
        {
            await watching.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await watchingDigests.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await RevokeQuietlyAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Publishes the keys of nodes that heartbeat here and deletes those of nodes gone silent; keeps the lease alive.</summary>
    internal async Task PublishOnceAsync(CancellationToken cancellationToken)
    {
        await EnsureLeaseAsync(fresh: false, cancellationToken).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        var live = _heartbeats.DirectNodes().Where(n => now - n.LastSeen < Silence).Select(n => n.Node).ToHashSet(StringComparer.Ordinal);
        string[] added, removed;
        lock (_gate)
        {
            added = [.. live.Where(n => !_published.ContainsKey(n))];
            removed = [.. _published.Keys.Where(n => !live.Contains(n))];
        }
        foreach (var node in added)
        {
            await VouchAsync(node, cancellationToken).ConfigureAwait(false);
        }
        foreach (var node in removed)
        {
            await UnpublishIfSilentAsync(node, cancellationToken).ConfigureAwait(false);
        }
        await PublishDigestAsync(now, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes the node's key, unless it heartbeat here again meanwhile (checked under the node's lock).</summary>
    private async Task UnpublishIfSilentAsync(string node, CancellationToken cancellationToken)
    {
        var nodeLock = _nodeLocks.GetOrAdd(node, _ => new SemaphoreSlim(1, 1));
        await nodeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            lock (_gate)
            {
                var last = _heartbeats.GetDirect(node)?.LastSeen;
                if (last is { } seen && _time.GetUtcNow() - seen < Silence)
                {
                    return;
                }
                // From here a heartbeat finds the node unpublished and puts the key again, after this delete.
                _published.Remove(node);
            }
            await _store.DeleteAsync(Keys.NodeLiveness(node, _options.ServerName), cancellationToken).ConfigureAwait(false);
            ControllersLog.RelayChanged(_logger, node, false);
        }
        finally
        {
            nodeLock.Release();
        }
    }

    /// <summary>Forgets <paramref name="lease"/> and every key put on it, unless a newer lease replaced it already.</summary>
    private void ResetLease(long lease)
    {
        lock (_gate)
        {
            if (_lease != lease)
            {
                return;
            }
            _lease = 0;
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
        long lease;
        lock (_gate)
        {
            lease = _lease;
        }
        if (lease == 0)
        {
            return;
        }
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2), _time);
            await _store.RevokeLeaseAsync(lease, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is StoreException or IOException or HttpRequestException or OperationCanceledException or ObjectDisposedException)
        {
            // The lease expires by itself.
        }
        ResetLease(lease);
    }
}
