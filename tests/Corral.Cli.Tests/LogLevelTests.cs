using Corral.Testing;
using Microsoft.Extensions.Logging;

namespace Corral.Cli.Tests;

/// <summary><c>--log-level</c> and <c>CORRAL_LOG_LEVEL</c> of the long-running commands: checked before anything runs.</summary>
public sealed class LogLevelTests : IDisposable
{
    private const string Refusal = "--log-level 'loud' is not a log level: use one of trace, debug, information, warning, error";

    private readonly TempDirectory _dir = new("corral-log-level");
    private readonly ProcessReaper _reaper = new();

    public void Dispose()
    {
        _reaper.Dispose();
        _dir.Dispose();
    }

    [Theory]
    [InlineData(null, null, LogLevel.Information)]
    [InlineData(null, "", LogLevel.Information)]
    [InlineData(null, "debug", LogLevel.Debug)]
    [InlineData("warning", "debug", LogLevel.Warning)]
    [InlineData("Trace", null, LogLevel.Trace)]
    [InlineData("error", "loud", LogLevel.Error)]
    [InlineData(" information ", null, LogLevel.Information)]
    public void Resolve_FlagThenEnvironmentThenInformation(string? flag, string? environment, LogLevel expected)
    {
        Assert.True(LogLevelOption.TryResolve(flag, environment, out var level, out var error), error);
        Assert.Equal(expected, level);
    }

    [Theory]
    [InlineData("loud", null, "--log-level 'loud'")]
    [InlineData("info", null, "--log-level 'info'")]
    [InlineData(null, "verbose", "CORRAL_LOG_LEVEL 'verbose'")]
    public void Resolve_BadValue_NamesItAndWhereItCameFrom(string? flag, string? environment, string named)
    {
        Assert.False(LogLevelOption.TryResolve(flag, environment, out _, out var error));
        Assert.StartsWith(named + " is not a log level: use one of trace, debug, information, warning, error", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("server run", "corral server run: ")]
    [InlineData("agent", "corral agent: ")]
    [InlineData("agent --tasks TASKS", "corral agent: ")]
    [InlineData("supervisor", "corral supervisor: ")]
    [InlineData("dev --no-sample", "corral dev: ")]
    public async Task BadLogLevel_Exit2NamingIt_NothingCreated(string command, string prefix)
    {
        var dataDir = _dir.Combine("data");
        var args = command.Replace("TASKS", _dir.Combine("tasks.json"), StringComparison.Ordinal).Split(' ');

        var run = await CliRun.RunAsync([.. args, "--data-dir", dataDir, "--log-level", "loud"]);

        Assert.True(run.ExitCode == ExitCodes.Usage, run.ToString());
        Assert.Contains(prefix + Refusal, run.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dataDir), $"{command} created its data dir with a bad --log-level");
    }

    [Theory]
    [InlineData("server run")]
    [InlineData("server join")]
    [InlineData("agent")]
    [InlineData("supervisor")]
    [InlineData("dev")]
    public async Task Help_ListsLogLevelWithItsValues(string command)
    {
        var run = await CliRun.RunAsync([.. command.Split(' '), "--help"]);

        Assert.True(run.ExitCode == ExitCodes.Ok, run.ToString());
        Assert.Contains("--log-level", run.Out, StringComparison.Ordinal);
        Assert.Contains("CORRAL_LOG_LEVEL", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadEnvironmentLevel_RealProcess_Exit2NamingTheVariable()
    {
        var dataDir = _dir.Combine("supervisor");
        var output = _dir.Combine("supervisor.out");
        var process = _reaper.Start(CorralBinary.Dotnet, [CorralBinary.Dll, "supervisor", "--data-dir", dataDir], output,
            new Dictionary<string, string> { [LogLevelOption.EnvironmentVariable] = "verbose" });
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(timeout.Token);

        var text = File.ReadAllText(output);
        Assert.True(process.ExitCode == ExitCodes.Usage, $"exit {process.ExitCode}: {text}");
        Assert.Contains("corral supervisor: CORRAL_LOG_LEVEL 'verbose' is not a log level", text, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dataDir));
    }
}
