using Corral.Testing;

namespace Corral.Cli.Tests;

public sealed class ExitCodeTests : CliTestBase
{
    [Fact]
    public async Task UnknownKey_Exit5()
    {
        var run = await CorralAsAsync("crl_0123456789ab_" + new string('a', 43), "status");

        AssertExit(ExitCodes.Unauthorized, run);
        Assert.Equal("corral: unauthorized: unknown or revoked API key", run.Error.Trim());
    }

    [Fact]
    public async Task ViewerKeyDeploying_Exit5()
    {
        var viewer = await Server.CreateKeyAsync("ro", "viewer");

        var run = await CorralAsAsync(viewer, "deploy", "-f", File("shop.yaml", Shop), "--detach");

        AssertExit(ExitCodes.Unauthorized, run);
        Assert.Contains("forbidden: this needs the operator role; key 'ro' is viewer", run.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("svc", "scale", "web")]
    [InlineData("svc", "scale", "web", "many")]
    [InlineData("svc", "scale", "web", "--", "-1")]
    [InlineData("status", "-o", "yaml")]
    [InlineData("apikey", "create", "x", "--role", "god")]
    [InlineData("deploy")]
    [InlineData("deploy", "-f", "x.yaml", "--timeout", "soon")]
    [InlineData("no-such-verb")]
    public async Task BadCommandLine_Exit2(params string[] args)
    {
        var run = await CliRun.RunAsync(args);

        AssertExit(ExitCodes.Usage, run);
        Assert.NotEmpty(run.Error);
    }

    [Fact]
    public async Task NoServerListening_Exit6NamingTheAddress()
    {
        var dead = $"https://127.0.0.1:{FreePorts.Next()}";

        var run = await CliRun.RunAsync(["status", "--addr", dead, "--token", Server.Config.Token, "--config", Server.ConfigPath, "--retry-for", "0"]);

        AssertExit(ExitCodes.Unavailable, run);
        Assert.Contains($"{dead}: connection refused", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoServerListening_RetriesForTheBudgetThenExit6()
    {
        var dead = $"https://127.0.0.1:{FreePorts.Next()}";
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var run = await CliRun.RunAsync(["status", "--addr", dead, "--token", Server.Config.Token, "--config", Server.ConfigPath, "--retry-for", "1s"]);

        AssertExit(ExitCodes.Unavailable, run);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1), $"gave up after {clock.Elapsed}");
        Assert.Contains($"{dead}: connection refused", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RetryForNotADuration_Exit2NamingTheFlag()
    {
        var run = await CliRun.RunAsync(["status", "--config", Server.ConfigPath, "--retry-for", "soon"]);

        AssertExit(ExitCodes.Usage, run);
        Assert.Contains("--retry-for 'soon' must be a duration", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeadFirstAddress_FailsOverToTheSecond()
    {
        var dead = $"https://127.0.0.1:{FreePorts.Next()}";

        var run = await CliRun.RunAsync(["status", "--addr", $"{dead},{Server.Address}", "--token", Server.Config.Token, "--config", Server.ConfigPath]);

        AssertOk(run);
        Assert.Matches($@"(?m)^server\s+{System.Text.RegularExpressions.Regex.Escape(Server.Address)}\s*$", run.Out);
    }

    [Fact]
    public async Task ConfigFileMissing_Exit2NamingIt()
    {
        var run = await CliRun.RunAsync(["status", "--config", "/nonexistent/corral.json"]);

        AssertExit(ExitCodes.Usage, run);
        Assert.Contains("cannot read the client config /nonexistent/corral.json (from --config)", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServerOfAnotherCluster_Exit1WithTheCertificateReason()
    {
        await using var other = await Client.Tests.TestServer.StartAsync();

        var run = await CliRun.RunAsync(["status", "--addr", other.Address, "--token", Server.Config.Token, "--config", Server.ConfigPath]);

        AssertExit(ExitCodes.Failure, run);
        Assert.Contains("not from the cluster CA in the client config", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void FromStatus_MapsTheDocumentedCodes()
    {
        Assert.Equal(3, ExitCodes.FromStatus(System.Net.HttpStatusCode.NotFound));
        Assert.Equal(4, ExitCodes.FromStatus(System.Net.HttpStatusCode.Conflict));
        Assert.Equal(5, ExitCodes.FromStatus(System.Net.HttpStatusCode.Unauthorized));
        Assert.Equal(5, ExitCodes.FromStatus(System.Net.HttpStatusCode.Forbidden));
        Assert.Equal(6, ExitCodes.FromStatus(System.Net.HttpStatusCode.ServiceUnavailable));
        Assert.Equal(1, ExitCodes.FromStatus(System.Net.HttpStatusCode.BadRequest));
        Assert.Equal(1, ExitCodes.FromStatus(System.Net.HttpStatusCode.InternalServerError));
    }
}
