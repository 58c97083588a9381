using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
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
    private WebApplication? _app;

    public int Port { get; } = FreePorts.Next();

    public string AdminToken { get; private set; } = "";

    public X509Certificate2 Ca { get; private set; } = null!;

    public string DataDir => _dir.Path;

    /// <summary>The running server's typed store access (to set up state no endpoint writes, e.g. a node).</summary>
    public Corral.Server.State.ClusterState State => Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Corral.Server.State.ClusterState>(_app!.Services);

    public static async Task<ServerHost> StartAsync()
    {
        var host = new ServerHost();
        var init = await ServerInitializer.InitAsync(new ServerInitOptions(host._dir.Path, "s1", "test", [], host.Port), TimeProvider.System, NullLoggerFactory.Instance, CancellationToken.None);
        host.AdminToken = init.AdminToken!;
        host.Ca = X509Certificate2.CreateFromPem(File.ReadAllText(init.Paths.CaCertificate));
        host._app = CorralServer.Build(new ServerRunOptions(host._dir.Path, IPAddress.Loopback, host.Port), TimeProvider.System);
        await host._app.StartAsync();
        return host;
    }

    public HttpClient Client(string? token = null)
    {
        var handler = new SocketsHttpHandler();
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
        _dir.Dispose();
    }
}
