using Corral.Client.Tests;
using Corral.Testing;

namespace Corral.Cli.Tests;

/// <summary>A real server per test and a way to run <c>corral</c> against it in this process.</summary>
public abstract class CliTestBase : IAsyncLifetime
{
    internal const string Shop = """
        stack: shop
        services:
          web:
            command: corral
            args: [demo-web, --port, "${PORT}"]
            replicas: 3
            ports: [http]
            health: { http: /health }
          worker:
            command: /bin/sleep
            args: ["3600"]
        """;

    private readonly TempDirectory _files = new("corral-cli");

    internal TestServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await TestServer.StartAsync();

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        _files.Dispose();
    }

    /// <summary>Runs <c>corral ARGS --addr … --token … --config …</c> (flags given, so the environment cannot interfere).</summary>
    internal Task<CliRun> CorralAsync(params string[] args) => CorralAsAsync(Server.Config.Token, args);

    internal Task<CliRun> CorralAsAsync(string token, params string[] args) =>
        CliRun.RunAsync([.. args, "--addr", Server.Address, "--token", token, "--config", Server.ConfigPath]);

    /// <summary>Writes a file in the test's temp dir and returns its path.</summary>
    internal string File(string name, string text)
    {
        var path = _files.Combine(name);
        System.IO.File.WriteAllText(path, text);
        return path;
    }

    internal static void AssertOk(CliRun run)
    {
        Assert.True(run.ExitCode == ExitCodes.Ok, run.ToString());
        Assert.DoesNotContain("\u001b[", run.Out, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"(?m)[ \t]$", run.Out);
    }

    internal static void AssertExit(int expected, CliRun run) => Assert.True(run.ExitCode == expected, $"expected exit {expected}\n{run}");
}
