using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Corral.Client;
using Corral.Core;
using Corral.Core.Api;
using Corral.Testing;

namespace Corral.IntegrationTests;

/// <summary>
/// A real <c>corral server run</c> with a given <c>monitor.json</c> and one joined <c>corral agent</c> (node
/// <c>n1</c>), each a child process with its own data dir. Every process of those data dirs is killed on dispose.
/// </summary>
public sealed class MonitoredCluster : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    private readonly TempDirectory _dir = new("corral-monitor");
    private readonly ProcessReaper _reaper = new();
    private readonly int _port = FreePorts.Next();
    private CorralClient? _client;

    private MonitoredCluster()
    {
    }

    public CorralClient Client => _client ?? throw new InvalidOperationException("not started");

    public Process? Agent { get; private set; }

    public string AgentDir => _dir.Combine("agent");

    public string ServerDir => _dir.Combine("server");

    public string Combine(string name) => _dir.Combine(name);

    private string ServerUrl => $"https://127.0.0.1:{_port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Inits a server, writes <paramref name="monitorJson"/> as its monitor.json, runs it and joins one agent.</summary>
    public static async Task<MonitoredCluster> StartAsync(string monitorJson)
    {
        var cluster = new MonitoredCluster();
        try
        {
            await cluster.StartCoreAsync(monitorJson);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    private async Task StartCoreAsync(string monitorJson)
    {
        var port = _port.ToString(CultureInfo.InvariantCulture);
        var init = Start("server-init.log", "server", "init", "--data-dir", ServerDir, "--port", port);
        using (var wait = new CancellationTokenSource(Timeout))
        {
            await init.WaitForExitAsync(wait.Token);
        }
        Assert.True(init.ExitCode == 0, "corral server init failed\n" + Log("server-init.log"));
        await File.WriteAllTextAsync(Path.Combine(ServerDir, "monitor.json"), monitorJson);
        var server = Start("server.log", "server", "run", "--data-dir", ServerDir, "--port", port);
        var config = JsonSerializer.Deserialize(await File.ReadAllTextAsync(Path.Combine(ServerDir, "admin.json")), CoreJson.Default.ClientConfig)!;
        _client = new CorralClient(config);
        await Eventually.ValueAsync(async () =>
        {
            Assert.False(server.HasExited, "corral server run exited\n" + Log("server.log"));
            var status = await Client.GetStatusAsync(CancellationToken.None);
            return status.Leader is null ? null : status;
        }, Timeout, "the server to lead");

        var token = (await Client.CreateJoinTokenAsync("10m", 1, "agent", CancellationToken.None)).Token;
        var agent = Start("agent.log", "agent", "--data-dir", AgentDir, "--server", ServerUrl, "--token", token, "--name", "n1");
        Agent = agent;
        await Eventually.ValueAsync(async () =>
        {
            Assert.False(agent.HasExited, "the agent exited\n" + Log("agent.log"));
            return (await Client.ListNodesAsync(CancellationToken.None)).FirstOrDefault(n => n.Node.Name == "n1" && n.DiskTotalBytes is not null);
        }, Timeout, "node n1 to heartbeat with its disk");
    }

    /// <summary>Waits until the alarm <paramref name="id"/> is listed by GET /v1/alarms?all=true and matches <paramref name="active"/>.</summary>
    public Task<Alarm> WaitAlarmAsync(string id, bool active, string what) =>
        Eventually.ValueAsync(async () =>
        {
            var alarms = await Client.ListAlarmsAsync(all: true, CancellationToken.None);
            return alarms.FirstOrDefault(a => a.Id == id && a.Active == active);
        }, Timeout, what);

    /// <summary>Kinds and subjects of every event so far.</summary>
    public async Task<List<(string Kind, string Subject)>> EventsAsync() =>
        [.. (await Client.GetEventsAsync(0, null, 10_000, CancellationToken.None)).Events.Select(e => (e.Kind, e.Subject))];

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
            if (Agent is { HasExited: false })
            {
                ClusterProcesses.Signal(Agent.Id, 18);
            }
            ClusterProcesses.KillAllUnder(_dir.Path);
        }
        finally
        {
            _reaper.Dispose();
            _client?.Dispose();
            _dir.Dispose();
        }
        return ValueTask.CompletedTask;
    }

    private Process Start(string log, params string[] args) =>
        _reaper.Start(CorralBinary.Dotnet, [CorralBinary.Dll, .. args], _dir.Combine(log), new Dictionary<string, string> { ["DOTNET_NOLOGO"] = "1" });
}
