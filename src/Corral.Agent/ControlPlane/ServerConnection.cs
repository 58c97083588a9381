using System.Globalization;
using System.Net.Http.Json;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Corral.Core.Security;
using Corral.Agent.Runtime;
using Corral.Agent.Stats;
using Corral.Core;
using Corral.Core.Api;
using Corral.Core.Tasks;

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
    private readonly HttpClient _http;
    private readonly NodeStatsSampler _nodeStats;
    private int _server;
    private long _lastContactTicks;

    public ServerConnection(ServerConnectionOptions options, AgentRuntime runtime, string dataDirectory, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("invalid server connection options: " + string.Join("; ", errors), nameof(options));
        }
        _options = options;
        _runtime = runtime;
        _time = time;
        _nodeStats = new NodeStatsSampler(dataDirectory, time);
        var handler = new SocketsHttpHandler
        {
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
            ConnectTimeout = TimeSpan.FromSeconds(3),
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is X509Certificate2 c && ClusterTrust.Chains(options.ClusterCa, c),
                ClientCertificates = options.ClientCertificate is null ? null : new X509CertificateCollection { options.ClientCertificate },
            },
        };
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>When a server last answered, or null if none ever did.</summary>
    public DateTimeOffset? LastContact
    {
        get
        {
            var ticks = Interlocked.Read(ref _lastContactTicks);
            return ticks == 0 ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
        }
    }

    /// <summary>The server currently talked to.</summary>
    public Uri CurrentServer => _options.Servers[Volatile.Read(ref _server) % _options.Servers.Count];

    /// <summary>Runs until cancelled: register, then heartbeats and assignments side by side.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await RetryAsync(RegisterAsync, cancellationToken).ConfigureAwait(false);
        var heartbeats = Task.Run(() => HeartbeatLoopAsync(cancellationToken), cancellationToken);
        var assignments = Task.Run(() => AssignmentLoopAsync(cancellationToken), cancellationToken);
        await Task.WhenAll(heartbeats, assignments).ConfigureAwait(false);
    }

    private async Task RegisterAsync(CancellationToken cancellationToken)
    {
        var stats = _nodeStats.Sample();
        var registration = new AgentRegistration(
            _options.NodeName,
            LocalAddresses(),
            stats.CpuCount,
            stats.MemoryTotalBytes,
            _options.Labels);
        using var response = await _http.PostAsJsonAsync(Url("/v1/agent/register"), registration, CoreJson.Default.AgentRegistration, cancellationToken).ConfigureAwait(false);
        await EnsureAsync(response, cancellationToken).ConfigureAwait(false);
    }

    private async Task HeartbeatLoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await SendHeartbeatAsync(cancellationToken).ConfigureAwait(false);
                await Task.Delay(_options.HeartbeatInterval, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (IsTransient(e))
            {
                NextServer();
                await DelayQuietlyAsync(_options.RetryInterval, cancellationToken).ConfigureAwait(false);
            }
        }
    }

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
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        using var response = await _http.PostAsJsonAsync(Url("/v1/agent/heartbeat"), heartbeat, CoreJson.Default.AgentHeartbeat, timeout.Token).ConfigureAwait(false);
        await EnsureAsync(response, cancellationToken).ConfigureAwait(false);
    }

    private async Task AssignmentLoopAsync(CancellationToken cancellationToken)
    {
        long index = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var wait = Durations.Format(_options.AssignmentWait);
                var url = Url($"/v1/agent/assignments?node={Uri.EscapeDataString(_options.NodeName)}&index={index.ToString(CultureInfo.InvariantCulture)}&wait={wait}");
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(_options.AssignmentWait + TimeSpan.FromSeconds(10));
                using var response = await _http.GetAsync(url, timeout.Token).ConfigureAwait(false);
                await EnsureAsync(response, cancellationToken).ConfigureAwait(false);
                var set = await response.Content.ReadFromJsonAsync(CoreJson.Default.AssignmentSet, cancellationToken).ConfigureAwait(false)
                    ?? throw new HttpRequestException("empty assignment set");
                if (set.Index != index || index == 0)
                {
                    var desired = set.Assignments.ToDictionary(a => a.ReplicaId, a => a.Task, StringComparer.Ordinal);
                    await _runtime.ApplyAsync(desired, cancellationToken).ConfigureAwait(false);
                    index = set.Index;
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (IsTransient(e))
            {
                // Nothing changes on the node while no server answers: replicas keep running.
                NextServer();
                await DelayQuietlyAsync(_options.RetryInterval, cancellationToken).ConfigureAwait(false);
            }
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
            throw new HttpRequestException($"{response.RequestMessage?.RequestUri}: {(int)response.StatusCode} {body}", null, response.StatusCode);
        }
        Interlocked.Exchange(ref _lastContactTicks, _time.GetUtcNow().UtcTicks);
    }

    private Uri Url(string pathAndQuery) => new(CurrentServer, pathAndQuery);

    private void NextServer() => Interlocked.Increment(ref _server);

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

    public ValueTask DisposeAsync()
    {
        _http.Dispose();
        return ValueTask.CompletedTask;
    }
}
