using System.Globalization;
using System.Net.Http.Json;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Corral.Core.Security;
using Corral.Agent.Logs;
using Corral.Agent.Runtime;
using Corral.Agent.Stats;
using Corral.Core;
using Corral.Core.Api;
using Corral.Core.Tasks;
using Microsoft.Extensions.Logging;

namespace Corral.Agent.ControlPlane;

/// <summary>
/// The agent's side of the agent protocol: registers the node, heartbeats with replica reports, long-polls its
/// assignments and applies them to the <see cref="AgentRuntime"/>. When no server answers it changes nothing on
/// the node (replicas keep running) and retries every <see cref="ServerConnectionOptions.RetryInterval"/>, cycling
/// through the servers it knows.
/// </summary>
public sealed class ServerConnection : IAsyncDisposable
{
    private readonly ServerConnectionOptions _options;
    private readonly AgentRuntime _runtime;
    private readonly TimeProvider _time;
    private readonly ILogger<ServerConnection> _logger;
    private readonly HttpClient _http;
    private readonly NodeStatsSampler _nodeStats;
    private readonly LogShipper _logs;
    private readonly SingletonFence _fence;
    private readonly string _dataDirectory;
    private readonly List<X509Certificate2> _renewed = [];
    private volatile X509Certificate2? _clientCertificate;
    private int _server;
    private long _lastContactTicks;
    private DateTimeOffset? _notReadySince;
    private Uri? _lastAcknowledgedBy;
    private TaskCompletionSource _replicaChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ServerConnection(ServerConnectionOptions options, AgentRuntime runtime, string dataDirectory, TimeProvider time, ILogger<ServerConnection> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("invalid server connection options: " + string.Join("; ", errors), nameof(options));
        }
        _options = options;
        _runtime = runtime;
        _time = time;
        _nodeStats = new NodeStatsSampler(dataDirectory, time);
        _fence = new SingletonFence(time, ReadLastContact(dataDirectory));
        _dataDirectory = dataDirectory;
        _clientCertificate = options.ClientCertificate;
        var handler = new SocketsHttpHandler
        {
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
            // One HTTP/2 connection carries every loop; it is replaced now and then, so a renewed certificate is used
            // within this time even while the connection stays busy.
            PooledConnectionLifetime = TimeSpan.FromMinutes(10),
            ConnectTimeout = TimeSpan.FromSeconds(2),
            // A server that vanishes without a reset (frozen, cut off) fails the connection, and with it every request on
            // it, within about two ping intervals, instead of when each request's own deadline runs out.
            KeepAlivePingDelay = options.PingInterval,
            KeepAlivePingTimeout = options.PingInterval,
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is X509Certificate2 c && ClusterTrust.Chains(options.ClusterCa, c),
                // Read at each new connection, so a renewed certificate is used from the next connection on.
                LocalCertificateSelectionCallback = (_, _, _, _, _) => _clientCertificate!,
            },
        };
        if (options.ClientCertificate is null)
        {
            handler.SslOptions.LocalCertificateSelectionCallback = null;
        }
        // The agent protocol is HTTP/2 (DESIGN.md); a server that offers only HTTP/1.1 is still spoken to.
        _http = new HttpClient(handler)
        {
            Timeout = Timeout.InfiniteTimeSpan,
            DefaultRequestVersion = System.Net.HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
        _logs = new LogShipper(dataDirectory, options.NodeName, SendLogsAsync, () => [.. runtime.Snapshot().Keys], time, new LogShipperOptions { RetryInterval = options.RetryInterval });
        _runtime.ReplicaChanged += OnReplicaChanged;
    }

    /// <summary>Ships the replicas' logs (see <see cref="LogShipper"/>).</summary>
    public LogShipper Logs => _logs;

    /// <summary>When a server last answered, or null if none ever did.</summary>
    public DateTimeOffset? LastContact
    {
        get
        {
            var ticks = Interlocked.Read(ref _lastContactTicks);
            return ticks == 0 ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
        }
    }

    /// <summary>The client certificate new connections present: the one given in the options until a renewal replaces it.</summary>
    public X509Certificate2? ClientCertificate => _clientCertificate;

    /// <summary>Raised after the client certificate was renewed and stored, with the new certificate.</summary>
    public event Action<X509Certificate2>? CertificateRenewed;

    /// <summary>Which singleton replicas are stopped for lack of contact, and when they may start again.</summary>
    public SingletonFence Fence => _fence;

    /// <summary>The server currently talked to.</summary>
    public Uri CurrentServer => ServerAt(Volatile.Read(ref _server));

    private Uri ServerAt(int index) => _options.Servers[(int)((uint)index % (uint)_options.Servers.Count)];

    /// <summary>
    /// Runs until cancelled: register, then heartbeats, assignments, fencing, certificate renewal and log shipping side by side.
    /// Throws <see cref="NodeRevokedException"/> (after stopping every loop) when a server refuses the node's
    /// certificate as revoked.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var run = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var token = run.Token;
        Task Loop(Func<CancellationToken, Task> loop) => Task.Run(async () =>
        {
            try
            {
                await loop(token).ConfigureAwait(false);
            }
            catch (NodeRevokedException)
            {
                await run.CancelAsync().ConfigureAwait(false);
                throw;
            }
        }, CancellationToken.None);
        await Loop(ct => RetryAsync(RegisterAsync, ct)).ConfigureAwait(false);
        var heartbeats = Loop(HeartbeatLoopAsync);
        var assignments = Loop(AssignmentLoopAsync);
        var fencing = Loop(FenceLoopAsync);
        var renewal = Loop(RenewLoopAsync);
        var logs = Loop(_logs.RunAsync);
        try
        {
            await Task.WhenAll(heartbeats, assignments, fencing, renewal, logs).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
        }
        foreach (var task in new[] { heartbeats, assignments, fencing, renewal, logs })
        {
            if (task.Exception?.InnerException is NodeRevokedException revoked)
            {
                throw revoked;
            }
        }
    }

    /// <summary>
    /// Renews the client certificate after <see cref="ServerConnectionOptions.RenewAt"/> of its validity, when the node's
    /// identity is stored in the data dir (a joined agent); a failed attempt is retried on the next server.
    /// </summary>
    private async Task RenewLoopAsync(CancellationToken cancellationToken)
    {
        if (_clientCertificate is null || !NodeIdentity.Exists(_dataDirectory))
        {
            return;
        }
        while (!cancellationToken.IsCancellationRequested)
        {
            var due = CertificateRenewal.DueAt(_clientCertificate!, _options.RenewAt) - _time.GetUtcNow();
            if (due > TimeSpan.Zero)
            {
                // Re-checked at least hourly, so a wall-clock jump cannot postpone a renewal for long.
                await DelayQuietlyAsync(due < TimeSpan.FromHours(1) ? due : TimeSpan.FromHours(1), cancellationToken).ConfigureAwait(false);
                continue;
            }
            try
            {
                await RenewOnceAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (IsTransient(e) || e is InvalidDataException)
            {
                NextServer();
                await DelayQuietlyAsync(_options.RetryInterval, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Asks a server for a new certificate for a new key (<c>POST /v1/agent/renew</c>, authenticated by the current
    /// one), stores the pair in the data dir and uses it for every new connection. Running replicas are not touched.
    /// </summary>
    public async Task RenewOnceAsync(CancellationToken cancellationToken)
    {
        var (key, csr) = CertificateRenewal.NewRequest(_options.NodeName);
        using (key)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(15));
            using var response = await _http.PostAsJsonAsync(Url("/v1/agent/renew"), new CertificateRenewRequest(_options.NodeName, csr), CoreJson.Default.CertificateRenewRequest, timeout.Token).ConfigureAwait(false);
            await EnsureAsync(response, cancellationToken).ConfigureAwait(false);
            var issued = await response.Content.ReadFromJsonAsync(CoreJson.Default.JoinResponse, cancellationToken).ConfigureAwait(false)
                ?? throw new HttpRequestException("empty renewal answer");
            var certificate = CertificateRenewal.Accept(issued.CertificatePem, key, _options.ClusterCa, _options.NodeName, _time.GetUtcNow());
            NodeIdentity.ReplaceCertificate(_dataDirectory, issued.CertificatePem, key.ExportPkcs8PrivateKeyPem());
            lock (_renewed)
            {
                // Earlier certificates may still be read by a handshake in flight: disposed with the connection.
                _renewed.Add(certificate);
            }
            _clientCertificate = certificate;
            CertificateRenewed?.Invoke(certificate);
        }
    }

    private async Task RegisterAsync(CancellationToken cancellationToken)
    {
        var stats = _nodeStats.Sample();
        var registration = new AgentRegistration(
            _options.NodeName,
            LocalAddresses(),
            stats.CpuCount,
            stats.MemoryTotalBytes,
            _options.Labels,
            _options.PortCapacity);
        var sentAt = _time.GetUtcNow();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(RegisterTimeout);
        using var response = await _http.PostAsJsonAsync(Url("/v1/agent/register"), registration, CoreJson.Default.AgentRegistration, timeout.Token).ConfigureAwait(false);
        await EnsureAsync(response, cancellationToken).ConfigureAwait(false);
        // Not contact for the fence: a registration is not put on record like a heartbeat (see SendHeartbeatAsync).
    }

    /// <summary>
    /// Heartbeats every <see cref="ServerConnectionOptions.HeartbeatInterval"/>. A heartbeat that fails (no answer within
    /// <see cref="ServerConnectionOptions.HeartbeatTimeout"/>, an error, a refusal) goes to the next server at once; only
    /// when every server failed in a row does the loop pause for <see cref="ServerConnectionOptions.RetryInterval"/>. So
    /// losing one server costs a heartbeat about one timeout, far below <c>heartbeat_grace</c> and <c>fence_after</c>.
    /// </summary>
    /// <summary>Deadline of one registration at one server (it may write the node's record): 5 s.</summary>
    private static readonly TimeSpan RegisterTimeout = TimeSpan.FromSeconds(5);

    private async Task HeartbeatLoopAsync(CancellationToken cancellationToken)
    {
        var failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            var at = Volatile.Read(ref _server);
            var started = _time.GetTimestamp();
            try
            {
                Volatile.Write(ref _replicaChanged, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
                await SendHeartbeatAsync(cancellationToken).ConfigureAwait(false);
                failures = 0;
                await WaitForNextHeartbeatAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (IsTransient(e))
            {
                failures++;
                Failover(at);
                var reason = Describe(e);
                if (failures == 1)
                {
                    ServerConnectionLog.HeartbeatFailed(_logger, ServerAt(at), _time.GetElapsedTime(started), reason, CurrentServer);
                }
                else
                {
                    ServerConnectionLog.HeartbeatFailedAgain(_logger, ServerAt(at), _time.GetElapsedTime(started), reason, failures, CurrentServer);
                }
                if (failures % _options.Servers.Count == 0)
                {
                    await DelayQuietlyAsync(_options.RetryInterval, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is not NodeRevokedException)
            {
                // Heartbeats must never stop while the agent runs: a failure nobody expected (e.g. from the supervisor
                // while renewing task fences) is reported and the loop goes on, instead of ending it silently.
                ServerConnectionLog.HeartbeatFailedUnexpectedly(_logger, e);
                await DelayQuietlyAsync(_options.RetryInterval, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Waits <see cref="ServerConnectionOptions.HeartbeatInterval"/>, or less when a replica changes state meanwhile (a
    /// new replica healthy, one exited): the server learns of it at once instead of up to an interval later. Heartbeats
    /// stay at least <see cref="MinHeartbeatSpacing"/> apart, so a burst of changes costs one.
    /// </summary>
    private async Task WaitForNextHeartbeatAsync(CancellationToken cancellationToken)
    {
        var spacing = MinHeartbeatSpacing < _options.HeartbeatInterval ? MinHeartbeatSpacing : _options.HeartbeatInterval;
        await Task.Delay(spacing, _time, cancellationToken).ConfigureAwait(false);
        using var rest = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var interval = Task.Delay(_options.HeartbeatInterval - spacing, _time, rest.Token);
        await Task.WhenAny(interval, Volatile.Read(ref _replicaChanged).Task).ConfigureAwait(false);
        await rest.CancelAsync().ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary>The least time between two heartbeats: 100 ms.</summary>
    public static readonly TimeSpan MinHeartbeatSpacing = TimeSpan.FromMilliseconds(100);

    /// <summary>Sends one heartbeat with every replica's report (those recently stopped included) and the node's stats.</summary>
    public async Task SendHeartbeatAsync(CancellationToken cancellationToken)
    {
        // Replicas stopped because they were no longer assigned are reported as ended, so the server can confirm their stop.
        var views = _runtime.Snapshot();
        var reports = views.Concat(_runtime.Ended().Where(e => !views.ContainsKey(e.Key))).Select(kv => new ReplicaReport(
            kv.Key,
            kv.Value.State,
            kv.Value.Since,
            kv.Value.Reason,
            kv.Value.Pid == 0 ? null : kv.Value.Pid,
            kv.Value.LastExitCode,
            kv.Value.Ports,
            kv.Value.Stats?.CpuPercent,
            kv.Value.Stats?.RssBytes,
            kv.Value.Restarts)).ToList();
        var stats = _nodeStats.Sample();
        var heartbeat = new AgentHeartbeat(_options.NodeName, reports, stats.CpuPercent, stats.MemoryTotalBytes - stats.MemoryAvailableBytes, stats.Load1, stats.DiskUsedBytes, stats.DiskUsableBytes);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.HeartbeatTimeout);
        var server = CurrentServer;
        var sentAt = _time.GetUtcNow();
        using var response = await _http.PostAsJsonAsync(new Uri(server, "/v1/agent/heartbeat"), heartbeat, CoreJson.Default.AgentHeartbeat, timeout.Token).ConfigureAwait(false);
        await EnsureAsync(response, cancellationToken).ConfigureAwait(false);
        // A server from before the acknowledgement answers 204: its heartbeats count as they always did.
        var ack = response.StatusCode == System.Net.HttpStatusCode.NoContent
            ? null
            : await response.Content.ReadFromJsonAsync(CoreJson.Default.HeartbeatAck, timeout.Token).ConfigureAwait(false);
        var previous = _fence.LastContact;
        if (ack is null || ack.NodeReady)
        {
            // Deadlines that passed before this heartbeat was sent (the agent was frozen, or its fence loop had not
            // run yet) are fenced first: their replicas may have been replaced meanwhile, and only a set asked for from
            // now on may start them again.
            var lapsed = _fence.Due(sentAt);
            if (lapsed.Count > 0)
            {
                await FenceNowAsync(lapsed, sentAt - previous, cancellationToken).ConfigureAwait(false);
            }
            _fence.Reached(sentAt);
            WriteLastContact(sentAt);
            if (_notReadySince is not null || sentAt - previous > ContactGapWorthLogging || _lastAcknowledgedBy != server)
            {
                ServerConnectionLog.ContactRegained(_logger, server, _lastAcknowledgedBy?.ToString() ?? "none", sentAt - previous);
            }
            _lastAcknowledgedBy = server;
            _notReadySince = null;
        }
        else if (_notReadySince is null)
        {
            // On record, but the node is down in the store: the leader may still evict its replicas, so the fence runs on.
            _notReadySince = sentAt;
            ServerConnectionLog.AcknowledgedWhileDown(_logger, server, ack.Revision, sentAt - previous);
        }
        var fenced = _fence.Fenced;
        await RenewTaskFencesAsync(_fence.Singletons.Where(s => !fenced.Contains(s.Key)).ToDictionary(StringComparer.Ordinal), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops the given singletons for their fence (reasons from <see cref="SingletonFence.Due"/>), logging each step.</summary>
    private async Task FenceNowAsync(IReadOnlyDictionary<string, string> due, TimeSpan silence, CancellationToken cancellationToken)
    {
        foreach (var (id, _) in due)
        {
            ServerConnectionLog.FenceFired(_logger, id, silence, _fence.Singletons.GetValueOrDefault(id));
        }
        var started = _time.GetTimestamp();
        await _runtime.FenceAsync(due, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        foreach (var (id, _) in due)
        {
            ServerConnectionLog.FenceStopped(_logger, id, _time.GetElapsedTime(started));
        }
    }

    /// <summary>The file that keeps <see cref="SingletonFence.LastContact"/> across agent restarts.</summary>
    private static string LastContactPath(string dataDirectory) => Path.Combine(dataDirectory, "last-contact");

    /// <summary>The last contact an earlier run of the agent wrote, or null when none is readable.</summary>
    private static DateTimeOffset? ReadLastContact(string dataDirectory)
    {
        try
        {
            var text = File.ReadAllText(LastContactPath(dataDirectory)).Trim();
            return DateTimeOffset.TryParseExact(text, "O", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Keeps the last contact (once per counted heartbeat, written aside and renamed over, so a crash leaves the old
    /// value or the new one). A value that could not be written is older than the truth: the next run fences sooner.
    /// </summary>
    private void WriteLastContact(DateTimeOffset sentAt)
    {
        var path = LastContactPath(_dataDirectory);
        try
        {
            File.WriteAllText(path + ".tmp", sentAt.ToString("O", CultureInfo.InvariantCulture));
            File.Move(path + ".tmp", path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            ServerConnectionLog.LastContactNotWritten(_logger, path, e.Message);
        }
    }

    /// <summary>A gap between counted heartbeats this long or longer is logged when contact returns: 2.5 s.</summary>
    private static readonly TimeSpan ContactGapWorthLogging = TimeSpan.FromSeconds(2.5);

    /// <value>
    /// How much later than the agent's own deadline the supervisor stops a singleton whose fence was not renewed:
    /// 500 ms. A live agent fences first (and reports it); the supervisor's fence acts when the agent is frozen or dead.
    /// </value>
    public static readonly TimeSpan SupervisorFenceGrace = Core.Services.SingletonTiming.SupervisorGrace;

    /// <summary>
    /// Renews each singleton's fence at the supervisor to <see cref="SingletonFence.LastContact"/> + its
    /// <c>fence_after</c> + <see cref="SupervisorFenceGrace"/>, and clears the fences of <paramref name="cleared"/>.
    /// A supervisor that does not answer is left alone: its tasks died with it.
    /// </summary>
    private async Task RenewTaskFencesAsync(IReadOnlyDictionary<string, TimeSpan> singletons, CancellationToken cancellationToken, IEnumerable<string>? cleared = null)
    {
        var contact = _fence.LastContact;
        var now = _time.GetUtcNow();
        try
        {
            foreach (var id in cleared ?? [])
            {
                await _runtime.Driver.FenceAsync(id, null, cancellationToken).ConfigureAwait(false);
            }
            foreach (var (id, fenceAfter) in singletons)
            {
                var within = contact + fenceAfter + SupervisorFenceGrace - now;
                await _runtime.Driver.FenceAsync(id, within > TimeSpan.Zero ? within : TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
                ServerConnectionLog.FenceRenewed(_logger, id, contact + fenceAfter, contact + fenceAfter + SupervisorFenceGrace);
            }
        }
        catch (Exception e) when (e is Drivers.DriverUnavailableException or Supervisor.SupervisorException)
        {
        }
    }

    /// <summary>Stops singleton replicas once no server has acknowledged a heartbeat for their <c>fence_after</c>.</summary>
    private async Task FenceLoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            await DelayQuietlyAsync(FenceCheckInterval, cancellationToken).ConfigureAwait(false);
            var due = _fence.Due();
            if (due.Count > 0 && !cancellationToken.IsCancellationRequested)
            {
                await FenceNowAsync(due, _time.GetUtcNow() - _fence.LastContact, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>How often the fence is checked: 100 ms, well inside the shortest <c>fence_after</c> (1 s).</summary>
    public static readonly TimeSpan FenceCheckInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Long-polls the node's assignments and applies each new set. A set that would start a singleton not running here
    /// is held back while it shows the node down in the store (<see cref="AssignmentSet.NodeReady"/>): the leader may
    /// still evict that singleton and place it elsewhere. The loop then waits for the next set (the node's record
    /// changing wakes the long-poll) and applies that one.
    /// </summary>
    private async Task AssignmentLoopAsync(CancellationToken cancellationToken)
    {
        long index = 0;
        var held = false;
        while (!cancellationToken.IsCancellationRequested)
        {
            var at = Volatile.Read(ref _server);
            try
            {
                var wait = Durations.Format(_options.AssignmentWait);
                // While fenced replicas wait, ask for the current set at once rather than block on an unchanged index,
                // unless the last set was held back for the node's record: then wait for that record to change.
                var fenced = _fence.HasFenced;
                var ask = fenced && !held ? 0 : index;
                var requestedAt = _time.GetUtcNow();
                var url = Url($"/v1/agent/assignments?node={Uri.EscapeDataString(_options.NodeName)}&index={ask.ToString(CultureInfo.InvariantCulture)}&wait={wait}");
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(_options.AssignmentWait + TimeSpan.FromSeconds(10));
                using var response = await _http.GetAsync(url, timeout.Token).ConfigureAwait(false);
                await EnsureAsync(response, cancellationToken).ConfigureAwait(false);
                var set = await response.Content.ReadFromJsonAsync(CoreJson.Default.AssignmentSet, cancellationToken).ConfigureAwait(false)
                    ?? throw new HttpRequestException("empty assignment set");
                _logs.Learn(set.Assignments);
                if (!_fence.MayApply(requestedAt))
                {
                    // Requested before a heartbeat acknowledged contact again: it may predate the replacement of a fenced singleton.
                    await DelayQuietlyAsync(FenceCheckInterval, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                var running = _runtime.Snapshot();
                var waiting = set.NodeReady == false
                    ? set.Assignments.Where(a => a.Singleton && a.FenceAfter > TimeSpan.Zero && !running.ContainsKey(a.ReplicaId)).Select(a => a.ReplicaId).ToList()
                    : [];
                if (waiting.Count > 0)
                {
                    if (!held || set.Index != index)
                    {
                        ServerConnectionLog.HeldForNodeReady(_logger, string.Join(", ", waiting), set.Index);
                    }
                    held = true;
                    index = set.Index;
                    continue;
                }
                var wasHeld = held;
                held = false;
                if (set.Index != index || index == 0 || fenced || wasHeld)
                {
                    var before = _fence.Singletons;
                    var restarting = _fence.Fenced.Where(id => set.Assignments.Any(a => a.ReplicaId == id)).ToList();
                    var desired = set.Assignments.ToDictionary(a => a.ReplicaId, a => a.Task, StringComparer.Ordinal);
                    // The supervisor guards each singleton before it (re)starts; one that stopped being a singleton loses its fence.
                    var singletons = set.Assignments.Where(a => a.Singleton && a.FenceAfter > TimeSpan.Zero).ToDictionary(a => a.ReplicaId, a => a.FenceAfter, StringComparer.Ordinal);
                    var unfenced = desired.Keys.Where(id => !singletons.ContainsKey(id)).ToList();
                    await RenewTaskFencesAsync(singletons, cancellationToken, unfenced).ConfigureAwait(false);
                    await _runtime.ApplyAsync(desired, cancellationToken).ConfigureAwait(false);
                    _fence.Applied(set.Assignments, requestedAt);
                    index = set.Index;
                    foreach (var (id, fenceAfter) in singletons.Where(s => !before.ContainsKey(s.Key)))
                    {
                        ServerConnectionLog.FenceArmed(_logger, id, fenceAfter, _fence.LastContact + fenceAfter);
                    }
                    foreach (var id in restarting.Where(id => !_fence.Fenced.Contains(id)))
                    {
                        ServerConnectionLog.FencedSingletonAssignedAgain(_logger, id, set.Index);
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (IsTransient(e))
            {
                // Nothing changes on the node while no server answers: replicas keep running.
                Failover(at);
                await DelayQuietlyAsync(_options.RetryInterval, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Posts one batch of log chunks; on failure moves on to the next server and throws.</summary>
    private async Task SendLogsAsync(AgentLogBatch batch, CancellationToken cancellationToken)
    {
        var at = Volatile.Read(ref _server);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(15));
            using var response = await _http.PostAsJsonAsync(Url("/v1/agent/logs"), batch, CoreJson.Default.AgentLogBatch, timeout.Token).ConfigureAwait(false);
            await EnsureAsync(response, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsTransient(e) && !cancellationToken.IsCancellationRequested)
        {
            Failover(at);
            throw;
        }
    }

    private async Task RetryAsync(Func<CancellationToken, Task> call, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                await call(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (IsTransient(e) && !cancellationToken.IsCancellationRequested)
            {
                NextServer();
                await Task.Delay(_options.RetryInterval, _time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task EnsureAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (response.StatusCode == System.Net.HttpStatusCode.Unauthorized && IsRevocation(body, out var detail))
            {
                throw new NodeRevokedException(detail);
            }
            throw new HttpRequestException($"{response.RequestMessage?.RequestUri}: {(int)response.StatusCode} {body}", null, response.StatusCode);
        }
        Interlocked.Exchange(ref _lastContactTicks, _time.GetUtcNow().UtcTicks);
    }

    private Uri Url(string pathAndQuery) => new(CurrentServer, pathAndQuery);

    /// <summary>True for the problem a server answers a revoked certificate with (title <c>certificate revoked</c>).</summary>
    private static bool IsRevocation(string body, out string detail)
    {
        detail = "";
        try
        {
            using var problem = System.Text.Json.JsonDocument.Parse(body);
            if (problem.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object
                && problem.RootElement.TryGetProperty("title", out var title) && title.GetString() == "certificate revoked")
            {
                detail = problem.RootElement.TryGetProperty("detail", out var d) ? d.GetString() ?? "" : "";
                return true;
            }
        }
        catch (System.Text.Json.JsonException)
        {
        }
        return false;
    }

    private void NextServer() => Failover(Volatile.Read(ref _server));

    /// <summary>
    /// Moves on from server <paramref name="failed"/> (an index as read before the request), unless another loop moved
    /// on already: loops that fail on the same server move the agent one server on, not one each.
    /// </summary>
    private void Failover(int failed) => Interlocked.CompareExchange(ref _server, failed + 1, failed);

    private static string Describe(Exception e) => e switch
    {
        TaskCanceledException or OperationCanceledException => "no answer in time",
        HttpRequestException { StatusCode: { } status } => $"{(int)status} {e.Message}",
        _ => e.InnerException is { } inner ? $"{e.Message} ({inner.Message})" : e.Message,
    };

    private async Task DelayQuietlyAsync(TimeSpan delay, CancellationToken cancellationToken) =>
        await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

    private static bool IsTransient(Exception e) => e is HttpRequestException or IOException or TaskCanceledException or System.Text.Json.JsonException;

    private static IReadOnlyList<string> LocalAddresses() =>
        [.. System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .Where(i => i.OperationalStatus == System.Net.NetworkInformation.OperationalStatus.Up)
            .SelectMany(i => i.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .Where(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
            .OrderBy(a => System.Net.IPAddress.IsLoopback(a) ? 1 : 0)
            .Select(a => a.ToString())];

    private void OnReplicaChanged() => Volatile.Read(ref _replicaChanged).TrySetResult();

    public ValueTask DisposeAsync()
    {
        _runtime.ReplicaChanged -= OnReplicaChanged;
        _http.Dispose();
        lock (_renewed)
        {
            foreach (var certificate in _renewed)
            {
                certificate.Dispose();
            }
            _renewed.Clear();
        }
        return ValueTask.CompletedTask;
    }
}
