using Corral.Client;
using Corral.Testing;

namespace Corral.Cli.Tests;

/// <summary>The real <c>corral</c> entry point as a child process: target from the environment, exit codes.</summary>
public sealed class ProcessTests : CliTestBase, IDisposable
{
    private readonly TempDirectory _dir = new("corral-cli-process");
    private readonly ProcessReaper _reaper = new();

    public void Dispose()
    {
        _reaper.Dispose();
        _dir.Dispose();
    }

    private async Task<(int ExitCode, string Output)> RunAsync(IReadOnlyDictionary<string, string> env, params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "corral.dll");
        Assert.True(System.IO.File.Exists(dll), $"{dll} is missing: the test project must reference Corral.Cli");
        var outputFile = _dir.Combine($"run-{Guid.NewGuid():N}.txt");
        var environment = new Dictionary<string, string>
        {
            [ClientConfigLoader.AddressVariable] = "",
            [ClientConfigLoader.TokenVariable] = "",
            [ClientConfigLoader.ConfigVariable] = "",
            ["XDG_CONFIG_HOME"] = _dir.Combine("no-xdg"),
        };
        foreach (var (key, value) in env)
        {
            environment[key] = value;
        }
        var process = _reaper.Start("dotnet", [dll, .. args], outputFile, environment);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, System.IO.File.ReadAllText(outputFile));
    }

    [Fact]
    public async Task Corral_ConfigFromEnvironment_ListsServices()
    {
        AssertOk(await CorralAsync("deploy", "-f", File("shop.yaml", Shop), "--detach"));

        var (code, output) = await RunAsync(new Dictionary<string, string> { [ClientConfigLoader.ConfigVariable] = Server.ConfigPath }, "svc", "ls");

        Assert.True(code == ExitCodes.Ok, output);
        Assert.Matches(@"(?m)^web\s+shop\s+replicated\s+3\s", output);
        Assert.DoesNotContain("\u001b[", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Corral_XdgConfigHome_IsTheDefaultConfig_AndNotFoundIsExit3()
    {
        var xdg = _dir.Combine("xdg");
        Directory.CreateDirectory(Path.Combine(xdg, "corral"));
        System.IO.File.Copy(Server.ConfigPath, Path.Combine(xdg, "corral", "config.json"));

        var (code, output) = await RunAsync(new Dictionary<string, string> { ["XDG_CONFIG_HOME"] = xdg }, "svc", "show", "nope");

        Assert.True(code == ExitCodes.NotFound, output);
        Assert.Contains("corral: not found: no service 'nope'", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Corral_BadCommandLine_Exit2()
    {
        var (code, output) = await RunAsync(new Dictionary<string, string>(), "svc", "scale", "web");

        Assert.True(code == ExitCodes.Usage, output);
        Assert.Contains("Required argument missing", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("500ms")]
    [InlineData("10m")]
    [InlineData("soon")]
    public async Task ServerRun_HeartbeatGraceOutOfRange_Exit2NamingTheFlag(string grace)
    {
        var (code, output) = await RunAsync(new Dictionary<string, string>(), "server", "run", "--data-dir", _dir.Combine("never-initialized"), "--heartbeat-grace", grace);

        Assert.True(code == ExitCodes.Usage, output);
        Assert.Contains($"--heartbeat-grace '{grace}' must be a duration from 1s to 5m", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_dir.Combine("never-initialized")));
    }

    [Fact]
    public async Task SvcShow_Json_WritesDurationsAndEnumsAsStackFilesDo()
    {
        AssertOk(await CorralAsync("deploy", "-f", File("shop.yaml", Shop), "--detach"));

        var (code, output) = await RunAsync(new Dictionary<string, string> { [ClientConfigLoader.ConfigVariable] = Server.ConfigPath }, "svc", "show", "web", "-o", "json");

        Assert.True(code == ExitCodes.Ok, output);
        var spec = System.Text.Json.Nodes.JsonNode.Parse(output)!["spec"]!;
        Assert.Equal("30s", (string?)spec["eviction_timeout"]);
        Assert.Equal("10s", (string?)spec["task"]!["stop_timeout"]);
        Assert.Equal("always", (string?)spec["task"]!["restart"]!["mode"]);
        Assert.Equal("1s", (string?)spec["task"]!["restart"]!["backoff"]);
        Assert.Equal("http", (string?)spec["task"]!["health"]!["kind"]);
        Assert.Equal("2s", (string?)spec["task"]!["health"]!["interval"]);
        Assert.Equal("replicated", (string?)spec["mode"]);
    }

    [Fact]
    public async Task ServerRun_WithoutPort_ListensOnThePortGivenToServerInit()
    {
        var data = _dir.Combine("server");
        var port = FreePorts.Next();
        var (code, output) = await RunAsync(new Dictionary<string, string>(), "server", "init", "--data-dir", data, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(code == ExitCodes.Ok, output);

        var log = _dir.Combine("server-run.txt");
        var server = _reaper.Start("dotnet", [Path.Combine(AppContext.BaseDirectory, "corral.dll"), "server", "run", "--data-dir", data], log);

        var config = System.Text.Json.JsonSerializer.Deserialize(System.IO.File.ReadAllText(Path.Combine(data, "admin.json")), Corral.Core.CoreJson.Default.ClientConfig)!;
        using var client = new CorralClient(config);
        var status = await Eventually.ValueAsync(async () =>
        {
            Assert.False(server.HasExited, "corral server run exited\n" + System.IO.File.ReadAllText(log));
            return await client.GetStatusAsync(CancellationToken.None);
        }, TimeSpan.FromSeconds(60), $"the server to answer on port {port}");
        Assert.True(status.StoreHealthy);
        Assert.Contains($"listening on https://127.0.0.1:{port}", System.IO.File.ReadAllText(log), StringComparison.Ordinal);
    }
}
