using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Corral.Core;
using Corral.Core.Api;
using Corral.Core.Cluster;
using Corral.Core.Services;
using Corral.Server.Agents;
using Corral.Server.Leadership;
using Corral.Server.Security;
using Corral.Server.State;
using Corral.Store;
using Corral.Store.Sqlite;
using Corral.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Corral.Server.Tests.Agents;

/// <summary>
/// A minimal server on a real Kestrel socket on 127.0.0.1: a SQLite store, the whole control plane
/// (<see cref="ControlPlaneServiceCollectionExtensions.AddCorralControlPlane"/>) and the agent endpoints, over HTTPS with
/// client certificates from a test cluster CA: each node's client presents its own node certificate (mTLS).
/// </summary>
internal sealed class AgentHost : IAsyncDisposable
{
    private readonly TempDirectory _directory;
    private readonly WebApplication _app;
    private readonly CertificateAuthority _ca;
    private readonly int _port;
    private readonly Dictionary<string, HttpClient> _clients = new(StringComparer.Ordinal);

    private AgentHost(TempDirectory directory, SqliteStore store, WebApplication app, int port, CertificateAuthority ca)
    {
        _directory = directory;
        Store = store;
        _app = app;
        _port = port;
        _ca = ca;
    }

    public SqliteStore Store { get; }

    /// <summary>A client with node <c>a</c>'s certificate.</summary>
    public HttpClient Client => ClientFor("a");

    /// <summary>A client that presents node <paramref name="node"/>'s certificate, or none when null.</summary>
    public HttpClient ClientFor(string? node)
    {
        var key = node ?? "";
        lock (_clients)
        {
            if (!_clients.TryGetValue(key, out var client))
            {
                var handler = new SocketsHttpHandler();
                handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is X509Certificate2 c && _ca.Verifies(c);
                if (node is not null)
                {
                    using var nodeKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
                    var csr = new CertificateRequest($"CN={node}", nodeKey, HashAlgorithmName.SHA256).CreateSigningRequestPem();
                    using var issued = _ca.IssueNodeCertificate(csr, node, TimeSpan.FromDays(1));
                    handler.SslOptions.ClientCertificates = [issued.CopyWithPrivateKey(nodeKey)];
                }
                client = new HttpClient(handler) { BaseAddress = new Uri($"https://127.0.0.1:{_port}"), Timeout = TimeSpan.FromSeconds(60) };
                _clients[key] = client;
            }
            return client;
        }
    }

    public ClusterState State => _app.Services.GetRequiredService<ClusterState>();

    public Corral.Server.Controllers.HeartbeatTable Heartbeats => _app.Services.GetRequiredService<Corral.Server.Controllers.HeartbeatTable>();

    public static async Task<AgentHost> StartAsync(TimeSpan? heartbeatGrace = null)
    {
        var directory = new TempDirectory("corral-agent-endpoints");
        var store = SqliteStore.Open(new SqliteStoreOptions { DataDirectory = directory.Combine("store"), Synchronous = SqliteSynchronousMode.Normal }, TimeProvider.System, NullLogger<SqliteStore>.Instance);
        var port = FreePorts.Next();
        var ca = CertificateAuthority.Create("agent-tests", TimeProvider.System);
        var serverCertificate = ca.IssueServerCertificate("test-server", ["localhost"], [IPAddress.Loopback], TimeSpan.FromDays(1));
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, port, listen => listen.UseHttps(https =>
        {
            https.ServerCertificate = serverCertificate;
            https.ClientCertificateMode = ClientCertificateMode.AllowCertificate;
            https.ClientCertificateValidation = (certificate, _, _) => ca.Verifies(certificate);
        })));
        builder.Services.AddSingleton<IClusterStore>(store);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddCorralControlPlane(new ControlPlaneOptions
        {
            ServerName = "test-server",
            ElectionTtl = TimeSpan.FromSeconds(20),
            HeartbeatGrace = heartbeatGrace ?? TimeSpan.FromMinutes(1),
            ReconcileInterval = TimeSpan.FromMilliseconds(200),
        });
        var app = builder.Build();
        app.MapAgentEndpoints();
        await app.StartAsync();
        return new AgentHost(directory, store, app, port, ca);
    }

    /// <summary>Waits until this server leads and has recorded it, so later store writes are only the test's and the controllers'.</summary>
    public async Task WaitForLeaderAsync() =>
        await WaitUntilAsync(async () => _app.Services.GetRequiredService<ILeadershipState>().IsLeader && (await EventKindsAsync()).Contains("leader.elected"), "the server leads");

    public static AgentRegistration Registration(string node, IReadOnlyDictionary<string, string>? labels = null) =>
        new(node, ["127.0.0.1"], 4, 8L << 30, labels ?? new Dictionary<string, string>());

    public Task<HttpResponseMessage> RegisterAsync(AgentRegistration registration) =>
        ClientFor(registration.Node).PostAsync("/v1/agent/register", JsonContent.Create(registration, CoreJson.Default.AgentRegistration));

    public Task<HttpResponseMessage> HeartbeatAsync(AgentHeartbeat heartbeat) =>
        ClientFor(heartbeat.Node).PostAsync("/v1/agent/heartbeat", JsonContent.Create(heartbeat, CoreJson.Default.AgentHeartbeat));

    public async Task<AssignmentSet> AssignmentsAsync(string node, long index, string wait, CancellationToken cancellationToken = default)
    {
        using var response = await ClientFor(node).GetAsync($"/v1/agent/assignments?node={node}&index={index}&wait={wait}", cancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync(CoreJson.Default.AssignmentSet, cancellationToken))!;
    }

    /// <summary>Long-polls until the node's assignments satisfy <paramref name="condition"/>; bounded.</summary>
    public async Task<AssignmentSet> AssignmentsUntilAsync(string node, Func<AssignmentSet, bool> condition)
    {
        var watch = Stopwatch.StartNew();
        long index = 0;
        while (true)
        {
            var set = await AssignmentsAsync(node, index, "5s");
            if (condition(set))
            {
                return set;
            }
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"assignments of {node} never matched; last: {set.Assignments.Count} at index {set.Index}");
            index = set.Index;
        }
    }

    public Task PutServiceAsync(ServiceSpec service) =>
        Store.PutAsync(Keys.Service(service.Name), JsonSerializer.SerializeToUtf8Bytes(service, CoreJson.Default.ServiceSpec));

    public async Task<Replica?> GetReplicaAsync(string id)
    {
        var kv = await Store.GetAsync(Keys.Replica(id));
        return kv is null ? null : JsonSerializer.Deserialize(kv.Value.Span, CoreJson.Default.Replica);
    }

    public async Task<Node> GetNodeAsync(string name) => (await State.GetNodeAsync(name, CancellationToken.None))!.Value;

    public async Task<List<string>> EventKindsAsync() =>
        [.. (await State.EventsAfterAsync(0, 100_000, CancellationToken.None)).Events.Select(e => e.Kind)];

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"timed out waiting until {what}");
            await Task.Delay(25);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients.Values)
        {
            client.Dispose();
        }
        await _app.StopAsync();
        await _app.DisposeAsync();
        await Store.DisposeAsync();
        _directory.Dispose();
        _ca.Dispose();
    }
}
