using System.Security.Cryptography.X509Certificates;
using Corral.Store.Etcd.Api;
using Corral.Store.Etcd.Grpc;
using Google.Protobuf;
using Microsoft.Extensions.Logging;

namespace Corral.Store.Etcd;

/// <summary>
/// The cluster store on an etcd v3 cluster (3 or 5 members for high availability), spoken to over etcd's gRPC API.
/// </summary>
/// <remarks>
/// <para><b>Endpoints and failover.</b> Calls go to one preferred member; when it fails (connection refused or reset,
/// no leader, timeout) the store moves on to the next endpoint in <see cref="EtcdStoreOptions.Endpoints"/> order.
/// Reads and other idempotent calls are retried on the other members; writes are retried only when they certainly did
/// not reach a member (no connection, or refused before being proposed), since a write in flight on a failed member may
/// or may not have been applied. Retries back off from <see cref="EtcdStoreOptions.RetryBackoffMin"/> to
/// <see cref="EtcdStoreOptions.RetryBackoffMax"/> per round over all endpoints, for at most
/// <see cref="EtcdStoreOptions.RetryTimeout"/>; then <see cref="StoreUnavailableException"/> names every endpoint and the
/// last error.</para>
/// <para><b>Watches</b> each use their own bidirectional Watch stream with previous values on; a stream that fails is
/// re-created on another member from the last delivered revision + 1, so a watcher sees no gap and no duplicate.</para>
/// <para><b>Leases.</b> Keep-alives share one long-lived LeaseKeepAlive stream, answers matched to requests by lease id
/// in order; an answer with TTL 0 means the lease is gone (<see cref="LeaseNotFoundException"/>).</para>
/// <para><b>Compaction.</b> etcd keeps the compaction revision itself readable; this store keeps the contract's
/// stricter meaning (history at and below the compacted revision is gone) by remembering the highest compaction it has
/// done or been told about, and by asking etcd (Maintenance.HashKV) for its compaction revision when etcd reports a
/// compacted read.</para>
/// <para><b>Elections</b> use the generic <see cref="StoreElection"/> over this store's leases, transactions and
/// watches, so both backends elect identically.</para>
/// </remarks>
public sealed partial class EtcdStore : IClusterStore
{
    private readonly EtcdStoreOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<EtcdStore> _logger;
    private readonly GrpcChannelOptions _channelOptions;
    private readonly Lock _endpointsGate = new();
    private readonly List<GrpcChannel> _retired = [];
    private volatile EndpointSet _endpoints;
    private readonly StoreElection _election;
    private readonly LeaseKeepAliveStream _keepAlives;
    private readonly SemaphoreSlim _authGate = new(1, 1);
    private readonly CancellationTokenSource _disposing = new();
    private volatile CallSettings _settings;
    private int _current;
    private long _compactedFloor;
    private volatile bool _serveStaleReads;
    private int _disposed;

    /// <summary>Creates the store; no connection is made until the first call. Invalid options throw <see cref="ArgumentException"/> listing every problem.</summary>
    public EtcdStore(EtcdStoreOptions options, TimeProvider time, ILogger<EtcdStore> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        options.ThrowIfInvalid();
        _options = options;
        _time = time;
        _logger = logger;
        var channelOptions = new GrpcChannelOptions
        {
            ConnectTimeout = options.DialTimeout,
            KeepAlivePingDelay = options.KeepAlivePingInterval,
            KeepAlivePingTimeout = options.KeepAlivePingInterval,
            TrustedRoots = LoadRoots(options.CaFile),
            ClientCertificate = options.ClientCertificateFile is { } cert ? X509Certificate2.CreateFromPemFile(cert, options.ClientKeyFile) : null,
        };
        _channelOptions = channelOptions;
        _endpoints = new EndpointSet([.. options.Endpoints], [.. options.Endpoints.Select(e => new GrpcChannel(new Uri(e), channelOptions))]);
        _settings = new CallSettings(new GrpcCallOptions(options.RequestTimeout), new GrpcCallOptions(null, [new("hasleader", "true")]), null);
        _election = new StoreElection(this, time);
        _keepAlives = new LeaseKeepAliveStream(this);
    }

    /// <inheritdoc />
    public string Kind => "etcd";

    /// <summary>
    /// When true, <see cref="GetRevisionAsync"/>, <see cref="GetAsync"/> and <see cref="RangeAsync"/> are serializable
    /// reads: the member that is asked answers from its own copy, without a round through the raft leader, so reads
    /// work while the cluster has no quorum — but may be stale. A server turns this on while it sees the quorum lost
    /// (writes fail then anyway) and off when it returns. Transactions, watches and leases are unaffected. Default false.
    /// </summary>
    public bool ServeStaleReads
    {
        get => _serveStaleReads;
        set => _serveStaleReads = value;
    }

    /// <summary>The endpoints in failover order: the configured ones until <see cref="UseEndpoints"/> or <see cref="SyncEndpointsAsync"/> replaced them.</summary>
    public IReadOnlyList<string> Endpoints => _endpoints.Urls;

    /// <summary>The endpoint calls currently go to.</summary>
    public string CurrentEndpoint => EndpointAt(Volatile.Read(ref _current));

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
    public Task<long> SaveSnapshotAsync(Stream destination, CancellationToken cancellationToken = default) =>
        StoreSnapshot.SaveAsync(this, destination, cancellationToken);

    /// <inheritdoc />
    public Task RestoreSnapshotAsync(Stream source, CancellationToken cancellationToken = default) =>
        StoreSnapshot.RestoreAsync(this, source, cancellationToken);

    /// <summary>Closes every stream and connection. Calls in progress fail.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        await _disposing.CancelAsync().ConfigureAwait(false);
        await _keepAlives.DisposeAsync().ConfigureAwait(false);
        lock (_endpointsGate)
        {
            foreach (var channel in _endpoints.Channels.Concat(_retired))
            {
                channel.Dispose();
            }
            _retired.Clear();
        }
        _disposing.Dispose();
        _authGate.Dispose();
    }

    /// <summary>
    /// One unary call with failover: idempotent calls are retried on every transient failure, others only when the
    /// request certainly did not reach a member. Non-transient etcd errors are thrown as <see cref="GrpcException"/>
    /// for the caller to map; running out of retries throws <see cref="StoreUnavailableException"/>.
    /// </summary>
    /// <param name="attemptTimeout">The deadline of each attempt; null for <see cref="EtcdStoreOptions.RequestTimeout"/>.</param>
    internal async Task<TResponse> CallAsync<TResponse>(string method, IMessage request, MessageParser<TResponse> parser, bool idempotent, CancellationToken cancellationToken, TimeSpan? attemptTimeout = null)
        where TResponse : class, IMessage<TResponse>
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (_options.Username is not null && _settings.Token is null)
        {
            await AuthenticateAsync(null, cancellationToken).ConfigureAwait(false);
        }
        var index = Volatile.Read(ref _current);
        try
        {
            return await ChannelAt(index).UnaryAsync(method, request, parser, Unary(attemptTimeout), cancellationToken).ConfigureAwait(false);
        }
        catch (GrpcException e)
        {
            return await RetryAsync(method, request, parser, idempotent, index, e, cancellationToken, attemptTimeout).ConfigureAwait(false);
        }
    }

    private GrpcCallOptions Unary(TimeSpan? attemptTimeout) => attemptTimeout is { } timeout ? _settings.Unary with { Timeout = timeout } : _settings.Unary;

    private async Task<TResponse> RetryAsync<TResponse>(string method, IMessage request, MessageParser<TResponse> parser, bool idempotent, int index, GrpcException first, CancellationToken cancellationToken, TimeSpan? attemptTimeout)
        where TResponse : class, IMessage<TResponse>
    {
        var started = _time.GetTimestamp();
        var failures = 0;
        var reauthenticated = false;
        var error = first;
        while (true)
        {
            if (IsInvalidToken(error) && !reauthenticated && _options.Username is not null)
            {
                reauthenticated = true;
                await AuthenticateAsync(_settings.Token, cancellationToken).ConfigureAwait(false);
            }
            else if (!IsTransient(error))
            {
                throw error;
            }
            else if (!idempotent && !IsCertainlyNotApplied(error))
            {
                throw new StoreUnavailableException(
                    $"etcd {method} failed on {EndpointAt(index)} after it may have reached the member, so it was not retried " +
                    $"(it may or may not have been applied): {error.StatusMessage}", error);
            }
            else
            {
                failures++;
                if (_time.GetElapsedTime(started) >= _options.RetryTimeout)
                {
                    throw Unavailable(method, error, failures);
                }
                if (IsAnsweredByMember(error))
                {
                    // The member is fine and answered: the cluster is moving its leader. Ask it again shortly rather
                    // than another member, which may be the one that is gone.
                    await Task.Delay(Backoff(failures), _time, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    index = FailOver(index, error);
                    if (failures % EndpointCount == 0)
                    {
                        await Task.Delay(Backoff(failures / EndpointCount), _time, cancellationToken).ConfigureAwait(false);
                    }
                }
            }
            try
            {
                return await ChannelAt(index).UnaryAsync(method, request, parser, Unary(attemptTimeout), cancellationToken).ConfigureAwait(false);
            }
            catch (GrpcException e)
            {
                error = e;
            }
        }
    }

    /// <summary>
    /// Moves the preferred endpoint past <paramref name="failed"/> (unless another caller already did) and returns the
    /// endpoint to try next: the first after it that has not failed, nor been found silent by a status probe, within
    /// <see cref="SuspectFor"/>; the plain next one when every other is suspect. The failed endpoint becomes suspect.
    /// </summary>
    internal int FailOver(int failed, GrpcException error)
    {
        var count = _endpoints.Channels.Length;
        Suspect(EndpointAt(failed));
        var next = (failed + 1) % count;
        for (var step = 1; step < count; step++)
        {
            var candidate = (failed + step) % count;
            if (!IsSuspect(EndpointAt(candidate)))
            {
                next = candidate;
                break;
            }
        }
        if (Interlocked.CompareExchange(ref _current, next, failed) == failed && count > 1)
        {
            EtcdStoreLog.FailedOver(_logger, EndpointAt(failed), error.StatusMessage, EndpointAt(next));
        }
        return Volatile.Read(ref _current) == failed ? next : Volatile.Read(ref _current);
    }

    /// <summary>
    /// Makes the first endpoint (a server's own member, or the first configured) the current one again when
    /// <paramref name="healthy"/> is it and calls went elsewhere after a failure: the local member answers fastest, and
    /// staying on another one leaves calls on it when that one's host goes next.
    /// </summary>
    internal void FailBackTo(string healthy)
    {
        var endpoints = _endpoints;
        if (endpoints.Urls.Length > 1 && SameEndpoint(endpoints.Urls[0], healthy) && !IsSuspect(endpoints.Urls[0]))
        {
            var current = Volatile.Read(ref _current);
            if (current != 0 && Interlocked.CompareExchange(ref _current, 0, current) == current)
            {
                EtcdStoreLog.FailedBack(_logger, EndpointAt(current), endpoints.Urls[0]);
            }
        }
    }

    /// <summary>How long an endpoint that failed, or did not answer a status probe, is passed over by failovers: 10 s.</summary>
    internal static readonly TimeSpan SuspectFor = TimeSpan.FromSeconds(10);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _suspectUntil = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Marks <paramref name="endpoint"/> as one failovers avoid for <see cref="SuspectFor"/>.</summary>
    internal void Suspect(string endpoint) => _suspectUntil[endpoint] = _time.GetTimestamp() + (long)(SuspectFor.TotalSeconds * _time.TimestampFrequency);

    /// <summary>Clears <paramref name="endpoint"/>'s suspicion (it answered).</summary>
    internal void Trust(string endpoint) => _suspectUntil.TryRemove(endpoint, out _);

    private bool IsSuspect(string endpoint) => _suspectUntil.TryGetValue(endpoint, out var until) && _time.GetTimestamp() < until;

    /// <summary>
    /// A transient failure that the member itself answered while the cluster moves its raft leader: the member is
    /// reachable, so the request is asked of it again rather than of another member.
    /// </summary>
    internal static bool IsAnsweredByMember(GrpcException e) =>
        e.StatusMessage.Contains("etcdserver: leader changed", StringComparison.Ordinal)
        || e.StatusMessage.Contains("raft proposal dropped", StringComparison.Ordinal)
        || e.StatusMessage.Contains("etcdserver: too many requests", StringComparison.Ordinal);

    internal TimeSpan Backoff(int round)
    {
        var ms = _options.RetryBackoffMin.TotalMilliseconds * Math.Pow(2, Math.Min(round - 1, 20));
        return TimeSpan.FromMilliseconds(Math.Min(ms, _options.RetryBackoffMax.TotalMilliseconds));
    }

    internal StoreUnavailableException Unavailable(string what, Exception? last, int attempts) =>
        new($"etcd unreachable: {what} failed {attempts} time(s) over {_options.RetryTimeout.TotalSeconds:0.#} s on every endpoint ({string.Join(", ", _endpoints.Urls)}); " +
            $"last error: {(last as GrpcException)?.StatusMessage ?? last?.Message ?? "none"}", last);

    /// <summary>A failure after which another attempt (on this or another member) may succeed.</summary>
    internal static bool IsTransient(GrpcException e) =>
        e.StatusCode is GrpcStatusCode.Unavailable or GrpcStatusCode.DeadlineExceeded
        || (e.StatusCode == GrpcStatusCode.Unknown && TransientUnknown.Any(m => e.StatusMessage.Contains(m, StringComparison.Ordinal)));

    /// <summary>
    /// What etcd says with status Unknown when a member cannot reach a majority or its leader moves: a linearizable
    /// read or a proposal that timed out on the server ("context deadline exceeded", seen in the lab right after two of
    /// three members died), a leader change, a member stopping. None means the request was wrong.
    /// </summary>
    private static readonly string[] TransientUnknown =
    [
        "etcdserver: leader changed",
        "etcdserver: request timed out",
        "etcdserver: server stopped",
        "etcdserver: too many requests",
        "context deadline exceeded",
        "raft proposal dropped",
    ];

    /// <summary>
    /// A failure that proves a write was not applied, so retrying it cannot apply it twice. "raft proposal dropped":
    /// the member's raft refused to append the proposal at all (no leader, or leadership being transferred, as while
    /// a member joins), seen in the lab as a 500 to an agent joining while the third server's member was added.
    /// </summary>
    internal static bool IsCertainlyNotApplied(GrpcException e) =>
        e.RequestNotSent
        || e.StatusMessage.Contains("etcdserver: no leader", StringComparison.Ordinal)
        || e.StatusMessage.Contains("etcdserver: not capable", StringComparison.Ordinal)
        || e.StatusMessage.Contains("raft proposal dropped", StringComparison.Ordinal);

    private static bool IsInvalidToken(GrpcException e) =>
        e.StatusCode == GrpcStatusCode.Unauthenticated
        || e.StatusMessage.Contains("invalid auth token", StringComparison.Ordinal)
        || e.StatusMessage.Contains("auth token", StringComparison.Ordinal);

    /// <summary>Call options of streams (watch, keep-alive): no deadline, the etcd token, and "require a leader".</summary>
    internal async ValueTask<GrpcCallOptions> StreamOptionsAsync(CancellationToken cancellationToken)
    {
        if (_options.Username is not null && _settings.Token is null)
        {
            await AuthenticateAsync(null, cancellationToken).ConfigureAwait(false);
        }
        return _settings.Stream;
    }

    /// <summary>The channel of the preferred endpoint and its index.</summary>
    internal (GrpcChannel Channel, int Index) CurrentChannel()
    {
        var index = Volatile.Read(ref _current);
        return (ChannelAt(index), index);
    }

    internal EtcdStoreOptions Options => _options;

    internal TimeProvider Time => _time;

    internal ILogger Logger => _logger;

    internal CancellationToken Disposing => _disposing.Token;

    /// <summary>
    /// Gets a new token (unless another caller already replaced <paramref name="stale"/>) with failover over the
    /// endpoints, and sends it with every later call.
    /// </summary>
    private async Task AuthenticateAsync(string? stale, CancellationToken cancellationToken)
    {
        await _authGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_settings.Token is { } current && current != stale)
            {
                return;
            }
            var request = new AuthenticateRequest { Name = _options.Username, Password = _options.Password };
            var started = _time.GetTimestamp();
            var index = Volatile.Read(ref _current);
            var failures = 0;
            while (true)
            {
                try
                {
                    var response = await ChannelAt(index).UnaryAsync(EtcdMethods.Authenticate, request, AuthenticateResponse.Parser, new GrpcCallOptions(_options.RequestTimeout), cancellationToken).ConfigureAwait(false);
                    KeyValuePair<string, string> token = new("token", response.Token);
                    _settings = new CallSettings(
                        new GrpcCallOptions(_options.RequestTimeout, [token]),
                        new GrpcCallOptions(null, [new("hasleader", "true"), token]),
                        response.Token);
                    EtcdStoreLog.Authenticated(_logger, _options.Username!);
                    return;
                }
                catch (GrpcException e) when (IsTransient(e))
                {
                    failures++;
                    if (_time.GetElapsedTime(started) >= _options.RetryTimeout)
                    {
                        throw Unavailable("Authenticate", e, failures);
                    }
                    index = FailOver(index, e);
                    if (failures % EndpointCount == 0)
                    {
                        await Task.Delay(Backoff(failures / EndpointCount), _time, cancellationToken).ConfigureAwait(false);
                    }
                }
                catch (GrpcException e)
                {
                    throw new StoreException($"etcd authentication as '{_options.Username}' failed: {e.StatusMessage}", e);
                }
            }
        }
        finally
        {
            _authGate.Release();
        }
    }

    private static X509Certificate2Collection? LoadRoots(string? caFile)
    {
        if (caFile is null)
        {
            return null;
        }
        var roots = new X509Certificate2Collection();
        roots.ImportFromPemFile(caFile);
        if (roots.Count == 0)
        {
            throw new ArgumentException($"CaFile: '{caFile}' holds no PEM certificate", nameof(caFile));
        }
        return roots;
    }

    /// <summary>Per-call settings swapped as a whole when the auth token changes.</summary>
    private sealed record CallSettings(GrpcCallOptions Unary, GrpcCallOptions Stream, string? Token);
}
