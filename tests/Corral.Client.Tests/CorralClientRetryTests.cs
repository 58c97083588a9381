using System.Diagnostics;
using Corral.Core.Api;
using Corral.Testing;

namespace Corral.Client.Tests;

/// <summary>
/// The client's bounded retry of the whole address list (<see cref="CorralClientOptions.RetryFor"/>), against a real
/// server that is not serving yet at the first attempt.
/// </summary>
public sealed class CorralClientRetryTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Retry_ServerComesUpTwoSecondsAfterTheFirstAttempt_DeployLandsOnceAndAgainChangesNothing()
    {
        await using var server = await TestServer.InitAsync();
        var dead = $"https://127.0.0.1:{FreePorts.Next()}";
        using var client = new CorralClient(server.Config with { Addresses = [dead, server.Address] }, new CorralClientOptions { RetryFor = TimeSpan.FromSeconds(60) });
        var clock = Stopwatch.StartNew();

        var deploy = client.DeployAsync(new DeployRequest(CorralClientTests.Shop, "shop.yaml"), None);
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.False(deploy.IsCompleted, "the deploy finished before any server was up: " + deploy.Exception);
        await server.RunAsync();
        var result = await deploy;
        var first = await client.GetServiceAsync("web", None);
        var again = await client.DeployAsync(new DeployRequest(CorralClientTests.Shop, "shop.yaml"), None);
        var web = await client.GetServiceAsync("web", None);

        Assert.True(result.Changed);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(2));
        Assert.False(again.Changed);
        Assert.All(again.Changes, c => Assert.Equal(ServiceChangeKind.Unchanged, c.Kind));
        Assert.Equal(first.Version, web.Version);
        Assert.Equal(new Uri(server.Address + "/"), client.PreferredAddress);
    }

    [Fact]
    public async Task Retry_NoServerEverAnswers_GivesUpAfterTheBudgetNamingEveryAddress()
    {
        await using var server = await TestServer.InitAsync();
        var a = $"https://127.0.0.1:{FreePorts.Next()}";
        var b = $"https://127.0.0.1:{FreePorts.Next()}";
        using var client = new CorralClient(server.Config with { Addresses = [a, b] }, new CorralClientOptions { RetryFor = TimeSpan.FromSeconds(1) });
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<CorralConnectionException>(() => client.GetStatusAsync(None));

        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1), $"gave up after {clock.Elapsed}, before the retry budget");
        Assert.Equal(2, error.Failures.Count);
        Assert.Contains($"{a}: connection refused", error.Message, StringComparison.Ordinal);
        Assert.Contains($"{b}: connection refused", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Retry_CertificateFromAnotherCa_IsNotRetried()
    {
        await using var server = await TestServer.InitAsync();
        await using var other = await TestServer.StartAsync();
        using var client = new CorralClient(server.Config with { Addresses = [other.Address] }, new CorralClientOptions { RetryFor = TimeSpan.FromMinutes(5) });

        var error = await Assert.ThrowsAsync<CorralConnectionException>(() => client.GetStatusAsync(None));

        Assert.True(error.IsTrustFailure);
    }
}
