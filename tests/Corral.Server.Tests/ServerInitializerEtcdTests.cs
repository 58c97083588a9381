using Corral.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Corral.Server.Tests;

/// <summary>Several servers initialized against one real etcd share one cluster CA; another cluster's store is refused.</summary>
public sealed class ServerInitializerEtcdTests
{
    [Fact]
    public async Task InitOnEtcd_SecondServerJoinsWithSameCa_OtherClusterNameRefusedAndDirRemoved()
    {
        await using var etcd = await EtcdCluster.StartAsync(1, new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        using var dir = new TempDirectory("corral-init");
        var store = StoreConfig.Parse("etcd://" + new Uri(etcd.ClientUrls[0]).Authority, tls: false);

        var first = await ServerInitializer.InitAsync(new ServerInitOptions(dir.Combine("s1"), "s1", "prod", [], 7701) { Store = store }, TimeProvider.System, NullLoggerFactory.Instance, CancellationToken.None);
        var second = await ServerInitializer.InitAsync(new ServerInitOptions(dir.Combine("s2"), "s2", "prod", [], 7702) { Store = store }, TimeProvider.System, NullLoggerFactory.Instance, CancellationToken.None);

        Assert.False(first.Joined);
        Assert.NotNull(first.AdminToken);
        Assert.True(second.Joined);
        Assert.Equal(first.CaPin, second.CaPin);
        Assert.Equal(File.ReadAllText(first.Paths.CaKey), File.ReadAllText(second.Paths.CaKey));
        Assert.False(File.Exists(second.Paths.AdminClientConfig));
        Assert.Contains("\"store\": \"etcd\"", File.ReadAllText(second.Paths.ServerConfig), StringComparison.Ordinal);

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => ServerInitializer.InitAsync(
            new ServerInitOptions(dir.Combine("s3"), "s3", "staging", [], 7703) { Store = store }, TimeProvider.System, NullLoggerFactory.Instance, CancellationToken.None));
        Assert.Contains("holds cluster 'prod', not 'staging'; pass --cluster prod", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dir.Combine("s3")));
    }
}
