using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Corral.Client;
using Corral.Core;
using Corral.Testing;

namespace Corral.IntegrationTests;

/// <summary>
/// A real <c>corral server run</c> child process (SQLite store) that can be stopped and started again on the same
/// data dir and port, and <c>corral agent</c> child processes joined with tokens, each with its own data dir. Every
/// process of those data dirs (agents, supervisors, tasks, the server) is killed when disposed.
/// </summary>
internal sealed class JoinedCluster : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    private readonly TempDirectory _dir;
    private readonly ProcessReaper _reaper = new();
    private readonly int _port = FreePorts.Next();
    private readonly string[] _serverArgs;
    private Process? _server;
    private CorralClient? _client;
    private int _serverRuns;

    private JoinedCluster(string name, string[] serverArgs)
    {
        _dir = new TempDirectory(name);
        _serverArgs = serverArgs;
    }

    public string ServerDir => _dir.Combine("server");

    public string ServerUrl => $"https://127.0.0.1:{_port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The admin client config <c>corral server init</c> wrote.</summary>
    public string AdminConfig => Path.Combine(ServerDir, "admin.json");

    public CorralClient Client => _client ?? throw new InvalidOperationException("the server was never started");

    /// <summary>Initializes and starts a server; <paramref name="serverArgs"/> go to <c>corral server run</c>.</summary>
    public static async Task<JoinedCluster> StartAsync(string name, params string[] serverArgs)
    {
        var cluster = new JoinedCluster(name, serverArgs);
        try
        {
            var init = cluster.Start("server-init.log", "server", "init", "--data-dir", cluster.ServerDir, "--port", cluster._port.ToString(CultureInfo.InvariantCulture));
            await WaitForExitAsync(init);
            Assert.True(init.ExitCode == 0, "corral server init failed\n" + cluster.Log("server-init.log"));
            var config = JsonSerializer.Deserialize(await File.ReadAllTextAsync(cluster.AdminConfig), CoreJson.Default.ClientConfig)!;
            cluster._client = new CorralClient(config);
            await cluster.StartServerAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts <c>corral server run</c> (again) and waits until it answers.</summary>
    public async Task StartServerAsync()
    {
        var log = $"server-{++_serverRuns}.log";
        var server = Start(log, ["server", "run", "--data-dir", ServerDir, "--port", _port.ToString(CultureInfo.InvariantCulture), .. _serverArgs]);
        _server = server;
        await Eventually.ValueAsync(async () =>
        {
            Assert.False(server.HasExited, "corral server run exited\n" + Log(log));
            return await Client.GetStatusAsync(CancellationToken.None);
        }, Timeout, "the server to answer");
    }

    /// <summary>Stops the server with <paramref name="signal"/> (SIGTERM: graceful; SIGKILL: a crash) and waits for it to exit.</summary>
    public async Task StopServerAsync(int signal = 15)
    {
        var server = _server ?? throw new InvalidOperationException("no server runs");
        ClusterProcesses.Signal(server.Id, signal);
        await WaitForExitAsync(server);
        _server = null;
    }

    /// <summary>Creates a one-use join token and starts an agent in data dir <paramref name="dataDir"/> that joins as <paramref name="node"/>.</summary>
    public async Task<Process> JoinAgentAsync(string dataDir, string node)
    {
        var token = (await Client.CreateJoinTokenAsync("10m", 1, "agent", CancellationToken.None)).Token;
        return StartAgent(dataDir, dataDir + ".log", "--server", ServerUrl, "--token", token, "--name", node);
    }

    /// <summary>Starts <c>corral agent --data-dir DIR</c> with <paramref name="args"/>, its output in <paramref name="log"/>.</summary>
    public Process StartAgent(string dataDir, string log, params string[] args) =>
        Start(log, ["agent", "--data-dir", _dir.Combine(dataDir), .. args]);

    /// <summary>Runs <c>corral ARGS --config ADMIN</c> to its end; returns its exit code and output.</summary>
    public async Task<(int ExitCode, string Output)> RunCliAsync(string log, params string[] args)
    {
        var process = Start(log, [.. args, "--config", AdminConfig]);
        await WaitForExitAsync(process);
        return (process.ExitCode, await File.ReadAllTextAsync(_dir.Combine(log)));
    }

    /// <summary>Starts <c>corral ARGS --config ADMIN</c> without waiting for it.</summary>
    public Process StartCli(string log, params string[] args) => Start(log, [.. args, "--config", AdminConfig]);

    /// <summary>SIGKILLs every process of <paramref name="dir"/> (an agent, its supervisor and tasks; a server).</summary>
    /// <remarks>
    /// In bounded rounds until none is left: an agent that sees its supervisor die starts a new one, which a single
    /// pass can miss.
    /// </remarks>
    public static void KillAll(string dir)
    {
        for (var round = 0; round < 20; round++)
        {
            var found = ClusterProcesses.Find(dir);
            if (found.Count == 0)
            {
                return;
            }
            ClusterProcesses.KillAll(found);
            Thread.Sleep(100);
        }
    }

    /// <summary>SIGKILLs every process of data dir <paramref name="dataDir"/>: the node is gone.</summary>
    public void KillNode(string dataDir) => KillAll(_dir.Combine(dataDir));

    public string Combine(string name) => _dir.Combine(name);

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

    public ValueTask DisposeAsync()
    {
        try
        {
            foreach (var dir in Directory.GetDirectories(_dir.Path))
            {
                KillAll(dir);
            }
        }
        finally
        {
            _reaper.Dispose();
            _client?.Dispose();
            _dir.Dispose();
        }
        return ValueTask.CompletedTask;
    }

    private static async Task WaitForExitAsync(Process process)
    {
        using var wait = new CancellationTokenSource(Timeout);
        await process.WaitForExitAsync(wait.Token);
    }

    private Process Start(string log, params string[] args) =>
        _reaper.Start(CorralBinary.Dotnet, [CorralBinary.Dll, .. args], _dir.Combine(log), new Dictionary<string, string> { ["DOTNET_NOLOGO"] = "1" });
}
