using System.Net;
using System.Text.Json;
using Corral.Client;
using Corral.Core;
using Corral.Core.Api;
using Corral.Server;
using Corral.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging.Abstractions;

namespace Corral.Client.Tests;

// Also compiled into Corral.Cli.Tests (linked), so it stays free of test-project-specific types.

/// <summary>
/// A real Corral server (HTTPS on 127.0.0.1, SQLite store) in a temp data dir, initialized like
/// <c>corral server init</c>: its admin client config is <see cref="ConfigPath"/>.
/// </summary>
internal sealed class TestServer : IAsyncDisposable
{
    private readonly TempDirectory _dir = new("corral-client");
    private WebApplication? _app;

    public int Port { get; } = FreePorts.Next();

    public string Address => $"https://127.0.0.1:{Port}";

    /// <summary>The admin client config <c>server init</c> wrote (address, CA, admin key).</summary>
    public ClientConfig Config { get; private set; } = null!;

    public string ConfigPath { get; private set; } = "";

    public string DataDir => _dir.Path;

    public static async Task<TestServer> StartAsync()
    {
        var host = await InitAsync();
        await host.RunAsync();
        return host;
    }

    /// <summary>Initializes the data dir (its address and config are known) without serving yet; start it with <see cref="RunAsync"/>.</summary>
    public static async Task<TestServer> InitAsync()
    {
        var host = new TestServer();
        var init = await ServerInitializer.InitAsync(new ServerInitOptions(host._dir.Combine("data"), "s1", "test", [], host.Port), TimeProvider.System, NullLoggerFactory.Instance, CancellationToken.None);
        host.ConfigPath = init.Paths.AdminClientConfig;
        host.Config = JsonSerializer.Deserialize(File.ReadAllText(host.ConfigPath), CoreJson.Default.ClientConfig)!;
        return host;
    }

    /// <summary>Starts serving (once).</summary>
    public async Task RunAsync()
    {
        _app = CorralServer.Build(new ServerRunOptions(_dir.Combine("data"), IPAddress.Loopback, Port), TimeProvider.System);
        await _app.StartAsync();
    }

    public CorralClient Client(string? token = null, IReadOnlyList<string>? addresses = null) =>
        new(Config with { Token = token ?? Config.Token, Addresses = addresses ?? Config.Addresses });

    /// <summary>Writes a client config with another key (and optionally other addresses) and returns its path.</summary>
    public string WriteConfig(string name, string token, IReadOnlyList<string>? addresses = null)
    {
        var path = _dir.Combine(name + ".json");
        ClientConfigLoader.Save(path, Config with { Token = token, Addresses = addresses ?? Config.Addresses });
        return path;
    }

    public async Task<string> CreateKeyAsync(string name, string role)
    {
        using var admin = Client();
        return (await admin.CreateApiKeyAsync(name, role, CancellationToken.None)).Token;
    }

    /// <summary>Writes a node record straight to the server's store (as an agent's registration would).</summary>
    public async Task PutNodeAsync(Corral.Core.Cluster.Node node)
    {
        var state = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Corral.Server.State.ClusterState>(_app!.Services);
        await state.Store.TxnAsync(new Corral.Store.Txn([], [Corral.Server.State.ClusterState.PutNode(node)], []), CancellationToken.None);
    }

    /// <summary>Stores log chunks straight in the server's store (as an agent's <c>POST /v1/agent/logs</c> would).</summary>
    public async Task PutLogChunksAsync(string node, params Corral.Core.Api.AgentLogChunk[] chunks)
    {
        var state = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Corral.Server.State.ClusterState>(_app!.Services);
        await new Corral.Server.Logs.LogStore(state.Store).WriteAsync(node, chunks, CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        _dir.Dispose();
    }
}
