using System.Text.Json;
using Corral.Core;

namespace Corral.Cli.Tests;

/// <summary><c>corral server join</c> takes the serving flags of <c>server run</c> and checks them before it joins.</summary>
public sealed class ServerJoinCommandTests : CliTestBase
{
    [Theory]
    [InlineData("--vip 10.0.0.300/24 --vip-interface lo", "corral server join: --vip '10.0.0.300/24' is not an IPv4 address")]
    [InlineData("--vip 10.0.0.100/24", "--vip needs --vip-interface")]
    [InlineData("--heartbeat-grace 0s", "--heartbeat-grace '0s' must be a duration from 1s to 5m")]
    [InlineData("--listen nowhere", "--listen 'nowhere' is not an IP address")]
    [InlineData("--lease-ttl 1s --renew-interval 900ms", "unsafe timing refused")]
    [InlineData("--log-level loud", "corral server join: --log-level 'loud' is not a log level")]
    public async Task ServerJoin_BadServingFlag_Exit2WithTheReason_NothingJoined(string options, string message)
    {
        var created = JsonSerializer.Deserialize((await CorralAsync("node", "token", "create", "-o", "json")).Out, CoreJson.Default.JoinTokenCreated)!;
        var dataDir = Path.Combine(Path.GetTempPath(), "corral-join-" + Guid.NewGuid().ToString("N"));

        var run = await CliRun.RunAsync(["server", "join", Server.Address, "--token", created.Token, "--data-dir", dataDir, .. options.Split(' ')]);

        AssertExit(ExitCodes.Usage, run);
        Assert.Contains(message, run.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dataDir), "a refused join created its data dir");
        var tokens = JsonSerializer.Deserialize((await CorralAsync("node", "token", "ls", "-o", "json")).Out, CoreJson.Default.ListJoinTokenView)!;
        Assert.Equal(created.Info.Uses, tokens.Single(t => t.Id == created.Info.Id).UsesLeft);
    }

    [Fact]
    public async Task ServerJoin_Help_ListsTheServingFlagsOfServerRun()
    {
        var run = await CliRun.RunAsync(["server", "join", "--help"]);

        AssertOk(run);
        foreach (var flag in new[] { "--listen", "--port", "--vip", "--vip-interface", "--vip-on-leader", "--vip-on-follower", "--vip-on-fault", "--vip-hook-timeout", "--heartbeat-grace", "--log-max-size", "--timing", "--lease-ttl" })
        {
            Assert.Contains(flag, run.Out, StringComparison.Ordinal);
        }
        Assert.DoesNotContain("--store", run.Out, StringComparison.Ordinal);
    }
}
