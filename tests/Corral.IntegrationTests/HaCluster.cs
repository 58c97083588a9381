using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Corral.Client;
using Corral.Core;
using Corral.Core.Api;
using Corral.Testing;

namespace Corral.IntegrationTests;

/// <summary>
/// A real 3-member etcd cluster and <paramref name="servers"/> real <c>corral server run</c> processes on loopback
/// ports storing in it (initialized one by one with <c>server init --store etcd://…</c>), plus agents started on demand.
/// Disposing kills every process of every data dir, then etcd.
/// </summary>
internal sealed class HaCluster : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    private readonly TempDirectory _dir = new("corral-ha");
    private readonly ProcessReaper _reaper = new();
    private readonly Process?[] _servers;
    private readonly int[] _ports;
    private CorralClient? _client;

    private HaCluster(EtcdCluster etcd, int servers)
    {
        Etcd = etcd;
        _servers = new Process?[servers];
        _ports = [.. Enumerable.Range(0, servers).Select(_ => FreePorts.Next())];
    }

    public EtcdCluster Etcd { get; }

    public int Count => _servers.Length;

    /// <summary>A client that knows every server (the admin key of the first server's init).</summary>
    public CorralClient Client => _client ?? throw new InvalidOperationException("not started");

    public ClientConfig Config { get; private set; } = null!;

    public string Store => "etcd://" + string.Join(',', Etcd.ClientUrls.Select(u => new Uri(u).Authority));

    /// <summary>
    /// The external etcd's raft timing: what the servers' default timing profile assumes (50 ms heartbeat, 500 ms
    /// election timeout, pre-vote), as docs/ha.md tells operators to start an external etcd.
    /// </summary>
    public static EtcdClusterOptions EtcdOptions { get; } = new()
    {
        HeartbeatInterval = TimeSpan.FromMilliseconds(50),
        ElectionTimeout = TimeSpan.FromMilliseconds(500),
        ExtraArguments = ["--pre-vote"],
    };

    public static Task<HaCluster> StartAsync(int servers, params string[] runArgs) => StartWithMonitorAsync(servers, null, runArgs);

    /// <summary>Starts the cluster with <paramref name="monitorJson"/> (when not null) as every server's monitor.json.</summary>
    public static async Task<HaCluster> StartWithMonitorAsync(int servers, string? monitorJson, params string[] runArgs)
    {
        using var startup = new CancellationTokenSource(Timeout);
        var etcd = await EtcdCluster.StartAsync(3, startup.Token, EtcdOptions);
        var cluster = new HaCluster(etcd, servers);
        try
        {
            for (var i = 0; i < servers; i++)
            {
                await cluster.InitAsync(i);
                if (monitorJson is not null)
                {
                    await File.WriteAllTextAsync(Path.Combine(cluster.DataDir(i), "monitor.json"), monitorJson);
                }
            }
            for (var i = 0; i < servers; i++)
            {
                cluster.StartServer(i, runArgs);
            }
            var admin = JsonSerializer.Deserialize(await File.ReadAllTextAsync(Path.Combine(cluster.DataDir(0), "admin.json")), CoreJson.Default.ClientConfig)!;
            cluster.Config = admin with { Addresses = [.. Enumerable.Range(0, servers).Select(cluster.Url)] };
            cluster._client = new CorralClient(cluster.Config);
            await cluster.WaitLeaderAsync(null);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public string Name(int server) => "s" + server.ToString(CultureInfo.InvariantCulture);

    public string Url(int server) => $"https://127.0.0.1:{_ports[server].ToString(CultureInfo.InvariantCulture)}";

    public string DataDir(int server) => _dir.Combine(Name(server));

    public int IndexOf(string name) => Array.FindIndex(Enumerable.Range(0, Count).ToArray(), i => Name(i) == name);

    public bool IsRunning(int server) => _servers[server] is { HasExited: false };

    /// <summary>A client that talks to <paramref name="server"/> only.</summary>
    public CorralClient ClientOf(int server) => new(Config with { Addresses = [Url(server)] });

    /// <summary>SIGKILLs a server process and waits for it to be gone.</summary>
    public async Task KillServerAsync(int server)
    {
        var process = _servers[server]!;
        process.Kill();
        using var wait = new CancellationTokenSource(Timeout);
        await process.WaitForExitAsync(wait.Token);
    }

    public void StartServer(int server, params string[] runArgs)
    {
        _servers[server] = Start($"{Name(server)}.log", ["server", "run", "--data-dir", DataDir(server), "--port", _ports[server].ToString(CultureInfo.InvariantCulture), .. runArgs]);
    }

    /// <summary>Waits until the servers agree on a leader other than <paramref name="not"/>; returns its name.</summary>
    public Task<string> WaitLeaderAsync(string? not) => Eventually.ValueAsync(async () =>
    {
        var status = await Client.GetStatusAsync(CancellationToken.None);
        return status.Leader is { } leader && leader != not ? leader : null;
    }, Timeout, not is null ? "a leader" : $"a leader other than {not}\n" + Logs());

    /// <summary>Joins an agent with a fresh token; <paramref name="servers"/> are the server indexes it knows, in order.</summary>
    public async Task<Process> StartAgentAsync(string node, IEnumerable<int> servers)
    {
        var token = (await Client.CreateJoinTokenAsync("10m", 1, "agent", CancellationToken.None)).Token;
        return StartAgent(node, servers, token);
    }

    /// <summary>Starts an agent that joins as <paramref name="node"/> with <paramref name="token"/>.</summary>
    public Process StartAgent(string node, IEnumerable<int> servers, string token) =>
        Start(node + ".log", "agent", "--data-dir", _dir.Combine(node), "--server", string.Join(',', servers.Select(Url)), "--token", token, "--name", node);

    public string Log(string name)
    {
        try
        {
            return $"--- {name} ---\n" + File.ReadAllText(_dir.Combine(name));
        }
        catch (IOException)
        {
            return $"(no {name})";
        }
    }

    public string Logs() => string.Join('\n', Directory.GetFiles(_dir.Path, "*.log").Select(f => Log(Path.GetFileName(f))));

    public async ValueTask DisposeAsync()
    {
        try
        {
            ClusterProcesses.KillAllUnder(_dir.Path);
        }
        finally
        {
            _reaper.Dispose();
            _client?.Dispose();
            await Etcd.DisposeAsync();
            _dir.Dispose();
        }
    }

    private async Task InitAsync(int server)
    {
        var init = Start($"{Name(server)}-init.log", "server", "init", "--data-dir", DataDir(server), "--name", Name(server), "--port", _ports[server].ToString(CultureInfo.InvariantCulture), "--store", Store);
        using var wait = new CancellationTokenSource(Timeout);
        await init.WaitForExitAsync(wait.Token);
        Assert.True(init.ExitCode == 0, $"corral server init of {Name(server)} failed\n" + Log($"{Name(server)}-init.log"));
    }

    private Process Start(string log, params string[] args) =>
        _reaper.Start(CorralBinary.Dotnet, [CorralBinary.Dll, .. args], _dir.Combine(log), new Dictionary<string, string> { ["DOTNET_NOLOGO"] = "1" });
}
