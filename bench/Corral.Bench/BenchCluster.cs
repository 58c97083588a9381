using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Corral.Client;
using Corral.Core;
using Corral.Testing;

namespace Corral.Bench;

/// <summary>
/// A real <c>corral server run</c> child process (sqlite store) for the cluster benchmarks, an admin client for it,
/// and <c>corral agent</c> child processes each with its own data dir. Every process started is killed on dispose.
/// </summary>
internal sealed class BenchCluster : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly TempDirectory _dir = new("corral-bench-cluster");
    private readonly ProcessReaper _reaper = new();
    private readonly int _port = FreePorts.Next();
    private readonly Dictionary<string, Process> _agents = new(StringComparer.Ordinal);
    private Process? _server;
    private CorralClient? _client;

    public CorralClient Client => _client ?? throw new InvalidOperationException("not started");

    public Process Server => _server ?? throw new InvalidOperationException("not started");

    public Uri Url => new($"https://127.0.0.1:{_port.ToString(CultureInfo.InvariantCulture)}/");

    public static string Dotnet => Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";

    public static string Corral => Path.Combine(AppContext.BaseDirectory, "corral.dll");

    /// <summary>Initializes a data dir and starts the server with <paramref name="heartbeatGrace"/>; returns once it answers.</summary>
    public static async Task<BenchCluster> StartAsync(string heartbeatGrace)
    {
        var cluster = new BenchCluster();
        try
        {
            var serverDir = cluster.ServerDir;
            var port = cluster._port.ToString(CultureInfo.InvariantCulture);
            var init = cluster.Start("server-init.log", "server", "init", "--data-dir", serverDir, "--port", port);
            await init.WaitForExitAsync();
            if (init.ExitCode != 0)
            {
                throw new InvalidOperationException("corral server init failed: " + File.ReadAllText(cluster._dir.Combine("server-init.log")));
            }
            cluster._server = cluster.Start("server.log", "server", "run", "--data-dir", serverDir, "--port", port, "--heartbeat-grace", heartbeatGrace);
            var config = JsonSerializer.Deserialize(await File.ReadAllTextAsync(Path.Combine(serverDir, "admin.json")), CoreJson.Default.ClientConfig)!;
            cluster._client = new CorralClient(config);
            await WaitAsync(async () =>
            {
                if (cluster.Server.HasExited)
                {
                    throw new InvalidOperationException("corral server run exited: " + File.ReadAllText(cluster._dir.Combine("server.log")));
                }
                try
                {
                    await cluster.Client.GetStatusAsync(CancellationToken.None);
                    return true;
                }
                catch (CorralConnectionException)
                {
                    return false;
                }
            }, "the server to answer");
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public string ServerDir => _dir.Combine("server");

    /// <summary>The CPU time the server process has used so far (user + system), from /proc.</summary>
    public TimeSpan ServerCpu() => ProcessCpu(Server.Id);

    /// <summary>The CPU time a process has used so far (user + system), from /proc.</summary>
    public static TimeSpan ProcessCpu(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // Fields 14 and 15 of stat (utime, stime), counted from the state field (3), in clock ticks of 1/100 s.
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromMilliseconds(ticks * 10);
    }

    /// <summary>Starts this benchmark's own executable with <paramref name="args"/> as a child process (killed on dispose).</summary>
    public Process StartBench(string log, params string[] args) =>
        _reaper.Start(Dotnet, [typeof(BenchCluster).Assembly.Location, .. args], _dir.Combine(log), new Dictionary<string, string> { ["DOTNET_NOLOGO"] = "1" });

    public string AgentDir(string node) => _dir.Combine("agent-" + node);

    /// <summary>Starts the agent of <paramref name="node"/>: joining with a fresh token the first time, from its stored identity later.</summary>
    public async Task StartAgentAsync(string node)
    {
        string[] args = ["agent", "--data-dir", AgentDir(node)];
        if (!Directory.Exists(Path.Combine(AgentDir(node), "identity")))
        {
            var token = (await Client.CreateJoinTokenAsync("10m", 1, "agent", CancellationToken.None)).Token;
            args = [.. args, "--server", Url.ToString().TrimEnd('/'), "--token", token, "--name", node];
        }
        _agents[node] = Start($"agent-{node}.log", args);
    }

    /// <summary>
    /// SIGKILLs every process of the node's data dir (agent, supervisor, tasks) until none is left; returns the moment
    /// the first kill was sent (wall clock, and a <see cref="Stopwatch"/> timestamp), taken after the /proc scan.
    /// </summary>
    public async Task<(DateTimeOffset At, long Timestamp)> KillMachineAsync(string node)
    {
        var processes = ClusterProcesses.Find(AgentDir(node));
        var killed = (DateTimeOffset.UtcNow, Stopwatch.GetTimestamp());
        for (var round = 0; round < 50; round++)
        {
            if (processes.Count == 0)
            {
                return killed;
            }
            ClusterProcesses.KillAll(processes);
            await Task.Delay(50);
            processes = ClusterProcesses.Find(AgentDir(node));
        }
        throw new InvalidOperationException($"the processes of {node} did not die");
    }

    public static async Task WaitAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var stopwatch = Stopwatch.StartNew();
        while (!await condition())
        {
            if (stopwatch.Elapsed > (timeout ?? StartTimeout))
            {
                throw new TimeoutException("timed out waiting for " + what);
            }
            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        ClusterProcesses.KillAllUnder(_dir.Path);
        _reaper.Dispose();
        _client?.Dispose();
        _dir.Dispose();
        await Task.CompletedTask;
    }

    private Process Start(string log, params string[] args) =>
        _reaper.Start(Dotnet, [Corral, .. args], _dir.Combine(log), new Dictionary<string, string> { ["DOTNET_NOLOGO"] = "1" });
}
