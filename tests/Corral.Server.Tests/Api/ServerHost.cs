using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Corral.Core;
using Corral.Core.Api;
using Corral.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging.Abstractions;

namespace Corral.Server.Tests.Api;

/// <summary>A real server (HTTPS on 127.0.0.1, SQLite store) in a temp data dir, with clients for each role.</summary>
internal sealed class ServerHost : IAsyncDisposable
{
    private readonly TempDirectory _dir = new("corral-server");
    private readonly List<IDisposable> _owned = [];
    private WebApplication? _app;

    public int Port { get; } = FreePorts.Next();

    public string AdminToken { get; private set; } = "";

    public X509Certificate2 Ca { get; private set; } = null!;

    public string DataDir => _dir.Path;

    /// <summary>The running server's typed store access (to set up state no endpoint writes, e.g. a node).</summary>
    public Corral.Server.State.ClusterState State => Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Corral.Server.State.ClusterState>(_app!.Services);

    /// <param name="store">The store the server is initialized on; null for its own SQLite store.</param>
    public static async Task<ServerHost> StartAsync(StoreConfig? store = null)
    {
        var host = new ServerHost();
        var init = await ServerInitializer.InitAsync(new ServerInitOptions(host._dir.Path, "s1", "test", [], host.Port) { Store = store ?? StoreConfig.Sqlite }, TimeProvider.System, NullLoggerFactory.Instance, CancellationToken.None);
        host.AdminToken = init.AdminToken!;
        host.Ca = X509Certificate2.CreateFromPem(File.ReadAllText(init.Paths.CaCertificate));
        host._app = CorralServer.Build(new ServerRunOptions(host._dir.Path, IPAddress.Loopback, host.Port), TimeProvider.System);
        await host._app.StartAsync();
        return host;
    }

    public HttpClient Client(string? token = null, bool followRedirects = true)
    {
        var handler = new SocketsHttpHandler { AllowAutoRedirect = followRedirects };
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
        {
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(Ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return certificate is X509Certificate2 c && chain.Build(c);
        };
        var client = new HttpClient(handler) { BaseAddress = new Uri($"https://127.0.0.1:{Port}") };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return client;
    }

    public async Task<string> CreateKeyAsync(string name, string role)
    {
        using var admin = Client(AdminToken);
        var response = await admin.PostAsJsonAsync("/v1/apikeys", new ApiKeyCreateRequest(name, role), CoreJson.Default.ApiKeyCreateRequest);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync(CoreJson.Default.ApiKeyCreated))!.Token;
    }

    /// <summary>Joins node <paramref name="node"/> with a fresh one-use token; returns its certificate with its key.</summary>
    public async Task<X509Certificate2> JoinNodeAsync(string node)
    {
        using var admin = Client(AdminToken);
        using var created = await admin.PostAsync("/v1/tokens", Json(new JoinTokenCreateRequest(null, 1, null), CoreJson.Default.JoinTokenCreateRequest));
        var token = (await created.Content.ReadFromJsonAsync(CoreJson.Default.JoinTokenCreated))!.Token;
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        Own(key);
        var csr = new CertificateRequest($"CN={node}", key, HashAlgorithmName.SHA256).CreateSigningRequestPem();
        using var anonymous = Client();
        using var response = await anonymous.PostAsync("/v1/join", Json(new JoinRequest(token, node, csr, null), CoreJson.Default.JoinRequest));
        Xunit.Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var joined = (await response.Content.ReadFromJsonAsync(CoreJson.Default.JoinResponse))!;
        using var certificate = X509Certificate2.CreateFromPem(joined.CertificatePem);
        return WithKey(certificate, key);
    }

    /// <summary><paramref name="certificate"/> with <paramref name="key"/>, usable as a TLS client certificate; owned by the host.</summary>
    public X509Certificate2 WithKey(X509Certificate2 certificate, ECDsa key)
    {
        using var withKey = certificate.CopyWithPrivateKey(key);
        return Own(X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null));
    }

    /// <summary>A client that presents <paramref name="certificate"/> (mTLS), as a node's agent; owned by the host.</summary>
    public HttpClient NodeClient(X509Certificate2 certificate)
    {
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        handler.SslOptions.ClientCertificates = [certificate];
        return Own(new HttpClient(handler) { BaseAddress = new Uri($"https://127.0.0.1:{Port}") });
    }

    /// <summary>Disposed with the host.</summary>
    public T Own<T>(T item)
        where T : IDisposable
    {
        lock (_owned)
        {
            _owned.Add(item);
        }
        return item;
    }

    /// <summary>
    /// What callers' requests may change (nodes, API keys, join tokens, node certificates and revocations, services,
    /// stacks, and the events that name a key, node or server), as text to compare before and after a refused request;
    /// the server's own background writes (leases, health, alarms, leadership events) are left out.
    /// </summary>
    public async Task<string> CallerStateAsync()
    {
        var text = new StringBuilder();
        foreach (var prefix in new[] { "/corral/nodes/", "/corral/apikeys/", "/corral/tokens/", "/corral/nodecerts/", "/corral/revoked/", "/corral/services/", "/corral/stacks/" })
        {
            foreach (var kv in (await State.Store.RangeAsync(prefix, null, CancellationToken.None)).Kvs)
            {
                text.Append(kv.Key).Append('@').Append(kv.ModRevision).Append('\n');
            }
        }
        foreach (var kv in (await State.Store.RangeAsync("/corral/events/", null, CancellationToken.None)).Kvs)
        {
            var actor = JsonSerializer.Deserialize(kv.Value.Span, CoreJson.Default.ClusterEvent)!.Actor;
            if (actor.StartsWith("key:", StringComparison.Ordinal) || actor.StartsWith("node:", StringComparison.Ordinal) || actor.StartsWith("server:", StringComparison.Ordinal))
            {
                text.Append(kv.Key).Append('\n');
            }
        }
        return text.ToString();
    }

    public static StringContent Json<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) =>
        new(JsonSerializer.Serialize(value, type), Encoding.UTF8, "application/json");

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        Ca?.Dispose();
        foreach (var item in _owned)
        {
            item.Dispose();
        }
        _dir.Dispose();
    }
}
