using System.Net;
using System.Text.Json;
using Corral.Core;
using Corral.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Corral.Server.Tests;

/// <summary>What <c>server init</c> writes for the operator: the admin client config.</summary>
public sealed class ServerInitializerTests
{
    [Theory]
    [InlineData(new string[0], "https://127.0.0.1:7711")]
    [InlineData(new[] { "10.0.0.7", "10.0.0.100" }, "https://10.0.0.7:7711")]
    [InlineData(new[] { "fd00::7" }, "https://[fd00::7]:7711")]
    public async Task Init_AdminConfigNamesTheFirstAdvertisedAddressAndThePort_ElseLoopback(string[] advertised, string expected)
    {
        using var dir = new TempDirectory("corral-init");
        var result = await ServerInitializer.InitAsync(
            new ServerInitOptions(dir.Combine("s1"), "s1", "test", [.. advertised.Select(IPAddress.Parse)], 7711),
            TimeProvider.System, NullLoggerFactory.Instance, CancellationToken.None);

        var config = JsonSerializer.Deserialize(File.ReadAllText(result.Paths.AdminClientConfig), CoreJson.Default.ClientConfig)!;
        Assert.Equal([expected], config.Addresses);
        Assert.Equal(result.AdminToken, config.Token);
    }
}
