using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Corral.Client;
using Corral.Core;
using Corral.Testing;
using Corral.Testing.Logging;

namespace Corral.IntegrationTests;

/// <summary>
/// A real <c>corral server run</c> child process and <c>corral agent --server … --token …</c> child processes, each
/// with its own data dir. Every process of those data dirs (agents, supervisors, the server) is killed at the end.
/// </summary>
public sealed partial class AgentJoinTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    private readonly TempDirectory _dir = new("corral-join");
    private readonly ProcessReaper _reaper = new();
    private readonly int _port = FreePorts.Next();
    private Process? _server;
    private CorralClient? _client;

    private string ServerDir => _dir.Combine("server");

    private string ServerUrl => $"https://127.0.0.1:{_port.ToString(CultureInfo.InvariantCulture)}";

    private CorralClient Client => _client ?? throw new InvalidOperationException("the server is not started");

    public async Task InitializeAsync()
    {
        var port = _port.ToString(CultureInfo.InvariantCulture);
        var init = Start("server-init.log", "server", "init", "--data-dir", ServerDir, "--port", port);
        using (var wait = new CancellationTokenSource(Timeout))
        {
            await init.WaitForExitAsync(wait.Token);
        }
        Assert.True(init.ExitCode == 0, "corral server init failed\n" + Log("server-init.log"));
        _server = Start("server.log", "server", "run", "--data-dir", ServerDir, "--port", port);
        var config = JsonSerializer.Deserialize(await File.ReadAllTextAsync(Path.Combine(ServerDir, "admin.json")), CoreJson.Default.ClientConfig)!;
        _client = new CorralClient(config);
        await Eventually.ValueAsync(async () =>
        {
            Assert.False(_server.HasExited, "corral server run exited\n" + Log("server.log"));
            return await Client.GetStatusAsync(CancellationToken.None);
        }, Timeout, "the server to answer");
    }

    public Task DisposeAsync()
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
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Agent_JoinsWithToken_NodeRegistersAndSameTokenOrNameIsRefusedAfterwards()
    {
        var token = (await Client.CreateJoinTokenAsync("10m", 1, "agent", CancellationToken.None)).Token;

        var first = StartAgent("a1", "--server", ServerUrl, "--token", token, "--name", "n1", "--label", "zone=a");
        var node = await Eventually.ValueAsync(async () =>
        {
            Assert.False(first.HasExited, $"the first agent exited with {(first.HasExited ? first.ExitCode : 0)}\n" + Log("a1.log"));
            return (await Client.ListNodesAsync(CancellationToken.None)).FirstOrDefault(n => n.Node.Name == "n1");
        }, Timeout, "node n1 to register");

        Assert.Equal("a", node.Node.Labels["zone"]);
        // Both processes log with a timestamp first (at Information): the server its store, the agent its supervisor.
        var opened = ConsoleLogLine.Parse(Log("server.log")).FirstOrDefault(l => l.EventId == 2100);
        Assert.True(opened is not null, "no timestamped 'Opened store database' line in the server's output\n" + Log("server.log"));
        Assert.Equal(("info", "Corral.Store.Sqlite.SqliteStore"), (opened.Level, opened.Category));
        Assert.InRange(opened.At, DateTimeOffset.UtcNow - Timeout, DateTimeOffset.UtcNow);
        Assert.Contains(ConsoleLogLine.Parse(Log("a1.log")), l => l.EventId == 6140 && l.Category == "Corral.Agent.Runtime.SupervisorGuard");
        foreach (var file in new[] { "node.crt", "node.key", "ca.crt", "node.json" })
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_dir.Combine("a1"), "identity", file)));
        }

        var second = StartAgent("a2", "--server", ServerUrl, "--token", token, "--name", "n2");
        using (var wait = new CancellationTokenSource(Timeout))
        {
            await second.WaitForExitAsync(wait.Token);
        }
        var log = Log("a2.log");
        Assert.True(second.ExitCode == 5, $"expected exit 5 (unauthorized), got {second.ExitCode}\n{log}");
        Assert.Contains("already used", log, StringComparison.Ordinal);
        Assert.DoesNotContain(await Client.ListNodesAsync(CancellationToken.None), n => n.Node.Name == "n2");
        Assert.False(Directory.Exists(Path.Combine(_dir.Combine("a2"), "identity")));

        var fresh = (await Client.CreateJoinTokenAsync("10m", 1, "agent", CancellationToken.None)).Token;
        var impostor = StartAgent("a5", "--server", ServerUrl, "--token", fresh, "--name", "n1");
        using (var wait = new CancellationTokenSource(Timeout))
        {
            await impostor.WaitForExitAsync(wait.Token);
        }
        var impostorLog = Log("a5.log");
        Assert.True(impostor.ExitCode == 4, $"expected exit 4 (conflict) for a registered name, got {impostor.ExitCode}\n{impostorLog}");
        Assert.Contains("already registered", impostorLog, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Agent_TokenWithAnotherCaPin_RefusesTheServerAndConsumesNothing()
    {
        var created = await Client.CreateJoinTokenAsync("10m", 1, "agent", CancellationToken.None);
        var forged = "K10" + new string('0', 64) + created.Token[(3 + 64)..];

        var agent = StartAgent("a3", "--server", ServerUrl, "--token", forged, "--name", "n3");
        using (var wait = new CancellationTokenSource(Timeout))
        {
            await agent.WaitForExitAsync(wait.Token);
        }

        var log = Log("a3.log");
        Assert.True(agent.ExitCode == 1, $"expected exit 1, got {agent.ExitCode}\n{log}");
        Assert.Contains("does not present the cluster CA the token names", log, StringComparison.Ordinal);
        var listed = Assert.Single(await Client.ListJoinTokensAsync(CancellationToken.None), t => t.Id == created.Info.Id);
        Assert.Equal(1, listed.UsesLeft);
    }

    [Fact]
    public async Task Agent_RestartWithoutToken_UsesStoredIdentityAndLabels()
    {
        var token = (await Client.CreateJoinTokenAsync("10m", 1, "agent", CancellationToken.None)).Token;
        var first = StartAgent("a4", "--server", ServerUrl, "--token", token, "--name", "n4", "--label", "zone=b");
        await Eventually.ValueAsync(async () =>
        {
            Assert.False(first.HasExited, "the agent exited\n" + Log("a4.log"));
            return (await Client.ListNodesAsync(CancellationToken.None)).FirstOrDefault(n => n.Node.Name == "n4" && n.LastHeartbeat is not null);
        }, Timeout, "node n4 to heartbeat");
        ClusterProcesses.Signal(first.Id, 15);
        using (var wait = new CancellationTokenSource(Timeout))
        {
            await first.WaitForExitAsync(wait.Token);
        }
        var stoppedAt = DateTimeOffset.UtcNow;

        var again = StartAgent("a4", "a4-again.log");
        var node = await Eventually.ValueAsync(async () =>
        {
            Assert.False(again.HasExited, "the restarted agent exited\n" + Log("a4-again.log"));
            return (await Client.ListNodesAsync(CancellationToken.None)).FirstOrDefault(n => n.Node.Name == "n4" && n.LastHeartbeat > stoppedAt);
        }, Timeout, "node n4 to heartbeat again after a restart without a token");

        Assert.Equal("b", node.Node.Labels["zone"]);
    }

    private Process StartAgent(string name, params string[] args)
    {
        var log = args.Length == 1 ? args[0] : name + ".log";
        var rest = args.Length == 1 ? [] : args;
        return Start(log, ["agent", "--data-dir", _dir.Combine(name), .. rest]);
    }

    private Process Start(string log, params string[] args) =>
        _reaper.Start(CorralBinary.Dotnet, [CorralBinary.Dll, .. args], _dir.Combine(log), new Dictionary<string, string> { ["DOTNET_NOLOGO"] = "1" });

    private string Log(string name)
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
}
