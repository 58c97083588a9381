using System.Text.Json;
using Corral.Server.Metrics;
using Corral.Server.State;
using Corral.Store.Etcd;
using Corral.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Corral.Server.Tests.State;

/// <summary>A server's etcd endpoints following the member list, saved to server.json, on a real 3-member etcd.</summary>
public sealed class EtcdEndpointSyncTests
{
    [Fact]
    public async Task SyncOnce_ServerKnowingOnlyItsMember_LearnsTheOthersOwnFirst_SavesThemToServerJson()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await using var etcd = await EtcdCluster.StartAsync(3, cts.Token);
        using var dir = new TempDirectory("corral-sync");
        var paths = new ServerPaths(dir.Path);
        var own = etcd.ClientUrls[2];
        var config = new ServerConfig("s2", "c1", "etcd", [own]);
        await File.WriteAllTextAsync(paths.ServerConfig, JsonSerializer.Serialize(config, ServerJson.Default.ServerConfig), cts.Token);
        await using var store = new InstrumentedStore(new EtcdStore(config.ToStoreConfig().ToEtcdOptions(), TimeProvider.System, NullLogger<EtcdStore>.Instance));
        using var sync = new EtcdEndpointSync(store, paths, config, TimeProvider.System, NullLogger<EtcdEndpointSync>.Instance);

        await sync.SyncOnceAsync(cts.Token);

        var endpoints = ((EtcdStore)store.Inner).Endpoints;
        Assert.Equal(own, endpoints[0]);
        Assert.Equal(etcd.ClientUrls.Order(), endpoints.Order());
        var saved = JsonSerializer.Deserialize(await File.ReadAllTextAsync(paths.ServerConfig, cts.Token), ServerJson.Default.ServerConfig)!;
        Assert.Equal(endpoints, saved.EtcdEndpoints);
        Assert.Equal(config with { EtcdEndpoints = saved.EtcdEndpoints }, saved with { EtcdEndpoints = saved.EtcdEndpoints });

        // Nothing changed: server.json is not written again.
        var written = File.GetLastWriteTimeUtc(paths.ServerConfig);
        await Task.Delay(20, cts.Token);
        await sync.SyncOnceAsync(cts.Token);
        Assert.Equal(written, File.GetLastWriteTimeUtc(paths.ServerConfig));
    }
}
