using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text.Json;
using Corral.Client;
using Corral.Core;
using Corral.Core.Api;
using Corral.Core.Cluster;
using Corral.Testing;

namespace Corral.IntegrationTests;

/// <summary>
/// One <c>corral server run</c> and several <c>corral agent</c> child processes on loopback, each agent with its own
/// data dir (hence its own supervisor) and node name: a small cluster of "machines" on one host. Every process of
/// every data dir is killed on dispose, also when the test failed.
/// </summary>
internal sealed class NodeCluster : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    private readonly TempDirectory _dir = new("corral-nodes");
    private readonly ProcessReaper _reaper = new();
    private readonly int _port = FreePorts.Next();
    private readonly Dictionary<string, Process> _agents = new(StringComparer.Ordinal);
    private readonly string _heartbeatGrace;
    private Process? _server;
    private CorralClient? _client;

    private NodeCluster(string heartbeatGrace) => _heartbeatGrace = heartbeatGrace;

    public CorralClient Client => _client ?? throw new InvalidOperationException("the server was never started");

    public string ServerUrl => $"https://127.0.0.1:{_port.ToString(CultureInfo.InvariantCulture)}";

    public Process Server => _server ?? throw new InvalidOperationException("the server was never started");

    private string ServerDir => _dir.Combine("server");

    /// <summary>Initializes and starts the server, then joins one agent per name (in parallel) and waits until each heartbeats.</summary>
    public static async Task<NodeCluster> StartAsync(string heartbeatGrace, params string[] nodes)
    {
        var cluster = new NodeCluster(heartbeatGrace);
        try
        {
            var init = cluster.Start("server-init.log", "server", "init", "--data-dir", cluster.ServerDir, "--port", cluster._port.ToString(CultureInfo.InvariantCulture));
            using (var wait = new CancellationTokenSource(Timeout))
            {
                await init.WaitForExitAsync(wait.Token);
            }
            Assert.True(init.ExitCode == 0, "corral server init failed\n" + cluster.Log("server-init.log"));
            var config = JsonSerializer.Deserialize(await File.ReadAllTextAsync(Path.Combine(cluster.ServerDir, "admin.json")), CoreJson.Default.ClientConfig)!;
            cluster._client = new CorralClient(config);
            await cluster.StartServerAsync();
            foreach (var node in nodes)
            {
                var token = (await cluster.Client.CreateJoinTokenAsync("10m", 1, "agent", CancellationToken.None)).Token;
                cluster.StartAgent(node, "--server", cluster.ServerUrl, "--token", token, "--name", node);
            }
            await Eventually.ValueAsync(async () =>
            {
                cluster.AssertAgentsAlive();
                var listed = await cluster.Client.ListNodesAsync(CancellationToken.None);
                return nodes.All(n => listed.Any(v => v.Node.Name == n && v.LastHeartbeat is not null && v.Node.Status == NodeStatus.Ready)) ? listed : null;
            }, Timeout, "every agent to join and heartbeat");
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>The agent's data directory (its supervisor, tasks and identity live under it).</summary>
    public string AgentDir(string node) => _dir.Combine("agent-" + node);

    /// <summary>Starts <c>corral server run</c> on the cluster's port and waits until it answers the API.</summary>
    public async Task StartServerAsync()
    {
        LaunchServer();
        await Eventually.ValueAsync(async () =>
        {
            Assert.False(Server.HasExited, "corral server run exited\n" + Log("server.log"));
            return await Client.GetStatusAsync(CancellationToken.None);
        }, Timeout, "the server to answer");
    }

    /// <summary>Starts <c>corral server run</c> on the cluster's port without waiting for it.</summary>
    public void LaunchServer() =>
        _server = Start("server.log", "server", "run", "--data-dir", ServerDir, "--port", _port.ToString(CultureInfo.InvariantCulture), "--heartbeat-grace", _heartbeatGrace);

    /// <summary>SIGKILLs the server (a crashed server machine) and waits until it is gone.</summary>
    public async Task KillServerAsync()
    {
        ClusterProcesses.Signal(Server.Id, 9);
        using var wait = new CancellationTokenSource(Timeout);
        await Server.WaitForExitAsync(wait.Token);
    }

    /// <summary>SIGTERMs the server (an operator's restart) and waits until it has exited; returns how long it took.</summary>
    public async Task<TimeSpan> StopServerAsync()
    {
        var stopwatch = Stopwatch.StartNew();
        ClusterProcesses.Signal(Server.Id, 15);
        using var wait = new CancellationTokenSource(Timeout);
        await Server.WaitForExitAsync(wait.Token);
        return stopwatch.Elapsed;
    }

    /// <summary>Polls until the server's port accepts TCP connections; returns that moment (UTC).</summary>
    public async Task<DateTimeOffset> WaitUntilListeningAsync()
    {
        var stopwatch = Stopwatch.StartNew();
        while (stopwatch.Elapsed < Timeout)
        {
            Assert.False(Server.HasExited, "corral server run exited\n" + Log("server.log"));
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync("127.0.0.1", _port);
                return DateTimeOffset.UtcNow;
            }
            catch (SocketException)
            {
                await Task.Delay(10);
            }
        }
        throw new TimeoutException("the server did not listen within " + Timeout);
    }

    /// <summary>Starts the agent of <paramref name="node"/>: joining when args are given, else from its stored identity.</summary>
    public Process StartAgent(string node, params string[] args)
    {
        var log = $"agent-{node}-{_agents.Count.ToString(CultureInfo.InvariantCulture)}.log";
        var process = Start(log, ["agent", "--data-dir", AgentDir(node), .. args]);
        _agents[node] = process;
        File.WriteAllText(_dir.Combine($"agent-{node}.current"), log);
        return process;
    }

    /// <summary>
    /// A lost machine: SIGKILLs every process of the node's data dir at once (agent, supervisor and every task), then
    /// waits until none is left. Returns when the kill was sent.
    /// </summary>
    public async Task<DateTimeOffset> KillMachineAsync(string node)
    {
        var processes = ClusterProcesses.Find(AgentDir(node));
        Assert.Contains(processes, p => p.Pid == _agents[node].Id);
        _agents.Remove(node);
        var killedAt = DateTimeOffset.UtcNow;
        ClusterProcesses.KillAll(processes);
        for (var round = 0; round < 50 && ClusterProcesses.Find(AgentDir(node)).Count > 0; round++)
        {
            ClusterProcesses.KillAll(ClusterProcesses.Find(AgentDir(node)));
            await Task.Delay(100);
        }
        Assert.Empty(ClusterProcesses.Find(AgentDir(node)));
        return killedAt;
    }

    /// <summary>The replica tasks really running on a node: replica id → PID, from /proc (each task's CORRAL_TASK_ID).</summary>
    public IReadOnlyDictionary<string, int> RunningTasks(string node)
    {
        var tasks = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var process in ClusterProcesses.Find(AgentDir(node)))
        {
            if (process.CommandLine.StartsWith("sleep ", StringComparison.Ordinal) && ClusterProcesses.EnvironmentVariable(process.Pid, "CORRAL_TASK_ID") is { } id)
            {
                Assert.False(tasks.ContainsKey(id), $"replica {id} runs twice on node {node}");
                tasks[id] = process.Pid;
            }
        }
        return tasks;
    }

    /// <summary>Restarts per replica as the node's agent counts them in its <c>status.json</c>.</summary>
    public IReadOnlyDictionary<string, int> AgentRestarts(string node)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(AgentDir(node), "status.json")));
        return document.RootElement.GetProperty("replicas").EnumerateObject()
            .ToDictionary(p => p.Name, p => p.Value.GetProperty("restarts").GetInt32(), StringComparer.Ordinal);
    }

    /// <summary>Every event after <paramref name="index"/>.</summary>
    public async Task<IReadOnlyList<ClusterEvent>> EventsAfterAsync(long index)
    {
        var events = new List<ClusterEvent>();
        while (true)
        {
            var page = await Client.GetEventsAsync(index, null, null, CancellationToken.None);
            events.AddRange(page.Events);
            if (page.Events.Count == 0 || page.Index <= index)
            {
                return events;
            }
            index = page.Index;
        }
    }

    public void AssertAgentsAlive()
    {
        foreach (var (node, agent) in _agents)
        {
            if (agent.HasExited)
            {
                Assert.Fail($"the agent of {node} exited with {agent.ExitCode}\n" + Log(File.ReadAllText(_dir.Combine($"agent-{node}.current"))));
            }
        }
    }

    public async Task<IReadOnlyList<ReplicaView>> ReplicasAsync(string service) =>
        await Client.ListReplicasAsync(service, null, CancellationToken.None);

    /// <summary>The server's log and every agent's log, for a failure message.</summary>
    public string Logs() => string.Join("\n", Directory.GetFiles(_dir.Path, "*.log").Order(StringComparer.Ordinal).Select(f => Log(Path.GetFileName(f))));

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
            _dir.Dispose();
        }
        await Task.CompletedTask;
    }

    private Process Start(string log, params string[] args) =>
        _reaper.Start(CorralBinary.Dotnet, [CorralBinary.Dll, .. args], _dir.Combine(log), new Dictionary<string, string> { ["DOTNET_NOLOGO"] = "1" });

    private string Log(string name)
    {
        try
        {
            var text = File.ReadAllText(_dir.Combine(name));
            return $"--- {name} ---\n" + (text.Length > 6000 ? text[^6000..] : text);
        }
        catch (IOException)
        {
            return $"(no {name})";
        }
    }
}
