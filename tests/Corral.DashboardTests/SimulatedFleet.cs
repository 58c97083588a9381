using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Corral.Client;
using Corral.Core;
using Corral.Core.Api;
using Corral.Core.Tasks;

namespace Corral.DashboardTests;

/// <summary>
/// Many nodes for a real server without many machines: each simulated node joins with a join token (its own key
/// and CSR, a certificate from the cluster CA), registers and heartbeats over mTLS through the real agent endpoints,
/// and reports every replica the scheduler placed on it as healthy (it starts no process). Heartbeats go out every
/// <see cref="HeartbeatInterval"/>, well inside the server's 5 s grace, so the nodes stay ready. Stopped on dispose.
/// </summary>
public sealed class SimulatedFleet : IAsyncDisposable
{
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(2);

    private readonly CorralClient _admin;
    private readonly List<(string Name, HttpClient Http)> _nodes = [];
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    private SimulatedFleet(CorralClient admin) => _admin = admin;

    /// <summary>The simulated nodes' names.</summary>
    public IReadOnlyList<string> Nodes => [.. _nodes.Select(n => n.Name)];

    /// <summary>How many heartbeat rounds completed (each posts one heartbeat per node).</summary>
    public int Rounds { get; private set; }

    /// <summary>Joins and registers <paramref name="count"/> nodes named <c>sim-000</c>…, labelled <c>fleet=sim</c>, then starts heartbeats.</summary>
    public static async Task<SimulatedFleet> StartAsync(CorralClient admin, int port, int count, CancellationToken ct)
    {
        var fleet = new SimulatedFleet(admin);
        try
        {
            var token = await admin.CreateJoinTokenAsync("1h", count, "agent", ct);
            var labels = new Dictionary<string, string> { ["fleet"] = "sim" };
            for (var i = 0; i < count; i++)
            {
                var name = "sim-" + i.ToString("000", CultureInfo.InvariantCulture);
                using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
                var csr = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256).CreateSigningRequestPem();
                var joined = await admin.JoinAsync(new JoinRequest(token.Token, name, csr, labels), ct);
                var certificate = X509Certificate2.CreateFromPem(joined.CertificatePem, key.ExportECPrivateKeyPem());
                var ca = X509Certificate2.CreateFromPem(joined.CaPem);
                var handler = new SocketsHttpHandler();
                handler.SslOptions.ClientCertificates = [certificate];
                handler.SslOptions.RemoteCertificateValidationCallback = (_, server, _, _) =>
                {
                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.Add(ca);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    return server is X509Certificate2 c && chain.Build(c);
                };
                var http = new HttpClient(handler) { BaseAddress = new Uri($"https://127.0.0.1:{port}") };
                fleet._nodes.Add((name, http));
                var octet = (i % 250) + 1;
                var registration = new AgentRegistration(name, [$"10.99.{i / 250}.{octet}"], 8, 16L << 30, labels);
                using var response = await http.PostAsync("/v1/agent/register", Json(registration, CoreJson.Default.AgentRegistration), ct);
                await EnsureAsync(response, $"register {name}");
            }
            fleet._loop = Task.Run(() => fleet.HeartbeatLoopAsync(fleet._stop.Token), CancellationToken.None);
            return fleet;
        }
        catch
        {
            await fleet.DisposeAsync();
            throw;
        }
    }

    private async Task HeartbeatLoopAsync(CancellationToken ct)
    {
        var started = DateTimeOffset.UtcNow;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var replicas = await _admin.ListReplicasAsync(null, null, ct);
                var byNode = replicas.Where(r => r.Replica.Node is not null && r.Replica.Active).ToLookup(r => r.Replica.Node!);
                await Parallel.ForEachAsync(_nodes, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (node, token) =>
                {
                    var seed = node.Name.GetHashCode(StringComparison.Ordinal);
                    var reports = byNode[node.Name].Select((r, i) => new ReplicaReport(
                        r.Replica.Id, ReplicaState.Healthy, started, "simulated", 100_000 + Math.Abs((seed + i) % 800_000), null, null,
                        Math.Abs(seed + i) % 50 / 10.0, (32L + Math.Abs(seed + i) % 64) << 20)).ToList();
                    var heartbeat = new AgentHeartbeat(node.Name, reports, Math.Abs(seed) % 90, (2L + Math.Abs(seed) % 12) << 30, 0.5);
                    using var response = await node.Http.PostAsync("/v1/agent/heartbeat", Json(heartbeat, CoreJson.Default.AgentHeartbeat), token);
                    await EnsureAsync(response, $"heartbeat of {node.Name}");
                });
                Rounds++;
                await Task.Delay(HeartbeatInterval, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private static StringContent Json<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) =>
        new(JsonSerializer.Serialize(value, type), Encoding.UTF8, new MediaTypeHeaderValue("application/json"));

    private static async Task EnsureAsync(HttpResponseMessage response, string what)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{what}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_loop is not null)
        {
            await _loop;
        }
        foreach (var (_, http) in _nodes)
        {
            http.Dispose();
        }
        _stop.Dispose();
    }
}
