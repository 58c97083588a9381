using System.Text.Json;
using Corral.Core;
using Corral.Core.Api;

namespace Corral.Cli.Tests;

public sealed class LogsCommandTests : CliTestBase
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.UtcNow.AddMinutes(-5);

    private static AgentLogChunk Chunk(string replica, long from, int second, string stream, params string[] texts) =>
        new(replica, "web", from, from + (100 * texts.Length), [.. texts.Select((t, i) => new AgentLogLine(from + (100 * i), T0.AddSeconds(second + (2 * i)), stream, t))]);

    private async Task SeedAsync()
    {
        await Server.PutLogChunksAsync("n1", Chunk("web-1", 0, 0, "stdout", "hello", "world"));
        await Server.PutLogChunksAsync("n2", Chunk("web-2", 0, 1, "stderr", "oops"));
    }

    [Fact]
    public async Task Logs_Human_EachLineWithReplicaAndNodeOldestFirst()
    {
        await SeedAsync();

        var all = await CorralAsync("logs", "web");
        var tail = await CorralAsync("logs", "web", "--tail", "1", "--replica", "web-1");
        var node = await CorralAsync("logs", "web", "--node", "n2", "--since", "1h");

        AssertOk(all);
        Assert.Equal(["web-1@n1 | hello", "web-2@n2 | [stderr] oops", "web-1@n1 | world"], all.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        AssertOk(tail);
        Assert.Equal("web-1@n1 | world", tail.Out.Trim());
        AssertOk(node);
        Assert.Equal("web-2@n2 | [stderr] oops", node.Out.Trim());
    }

    [Fact]
    public async Task Logs_Json_OneRecordPerLine()
    {
        await SeedAsync();

        var run = await CorralAsync("logs", "web", "-o", "json");

        AssertOk(run);
        var records = run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonSerializer.Deserialize(l, CoreJson.Default.LogRecord)!).ToList();
        Assert.Equal(3, records.Count);
        Assert.Equal(new LogRecord("web", "web-2", "n2", "stderr", 0, T0.AddSeconds(1), "oops"), records[1]);
    }

    [Fact]
    public async Task Logs_BadInput_ExitCodesNameTheProblem()
    {
        await SeedAsync();

        var unknown = await CorralAsync("logs", "nope");
        var since = await CorralAsync("logs", "web", "--since", "last-tuesday");
        var tail = await CorralAsync("logs", "web", "--tail", "-3");

        AssertExit(ExitCodes.NotFound, unknown);
        Assert.Contains("nope", unknown.Error, StringComparison.Ordinal);
        AssertExit(ExitCodes.Failure, since);
        Assert.Contains("since", since.Error, StringComparison.Ordinal);
        AssertExit(ExitCodes.Usage, tail);
        Assert.Contains("--tail", tail.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServerRun_BadLogRetention_Exit2NamingEachFlag()
    {
        var run = await CliRun.RunAsync(["server", "run", "--data-dir", Server.DataDir, "--port", "1", "--log-max-size", "1K", "--log-max-age", "forever"]);

        AssertExit(ExitCodes.Usage, run);
        Assert.Contains("--log-max-size 1024 must be from 1 MiB to 16 GiB", run.Error, StringComparison.Ordinal);
        Assert.Contains("--log-max-age 'forever'", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServerRun_BadEventRetention_Exit2NamingEachFlag()
    {
        var run = await CliRun.RunAsync(["server", "run", "--data-dir", Server.DataDir, "--port", "1", "--events-max-count", "5", "--events-max-age", "30s"]);

        AssertExit(ExitCodes.Usage, run);
        Assert.Contains("--events-max-count 5 must be from 100 to 1,000,000", run.Error, StringComparison.Ordinal);
        Assert.Contains("--events-max-age", run.Error, StringComparison.Ordinal);
    }
}
