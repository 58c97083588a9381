using Corral.Server.Controllers;
using Corral.Server.Leadership;
using Corral.Server.State;
using Corral.Store.Etcd;
using Corral.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Corral.Server.Tests.Controllers;

/// <summary>Two servers' relays on a real etcd: a node heartbeating to one is seen by the other, at no steady-state write.</summary>
public sealed class LivenessRelayTests
{
    [Fact]
    public async Task NodeHeartbeatsToS1_S2SeesItWithoutSteadyWrites_SilenceOnS1MovesS2sLastSeenBack()
    {
        await using var etcd = await EtcdCluster.StartAsync(1, new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        await using var storeA = new EtcdStore(new EtcdStoreOptions { Endpoints = etcd.ClientUrls }, TimeProvider.System, NullLogger<EtcdStore>.Instance);
        await using var storeB = new EtcdStore(new EtcdStoreOptions { Endpoints = etcd.ClientUrls }, TimeProvider.System, NullLogger<EtcdStore>.Instance);
        var time = new ManualTimeProvider(DateTimeOffset.UtcNow);
        var tableA = new HeartbeatTable();
        var tableB = new HeartbeatTable();
        var relayA = new LivenessRelay(storeA, tableA, new ControlPlaneOptions { ServerName = "s1" }, time, NullLogger<LivenessRelay>.Instance);
        using var relayB = new LivenessRelay(storeB, tableB, new ControlPlaneOptions { ServerName = "s2" }, time, NullLogger<LivenessRelay>.Instance);
        await relayB.StartAsync(CancellationToken.None);
        try
        {
            var heardAt = time.GetUtcNow();
            tableA.Touch("n1", heardAt);
            await relayA.PublishOnceAsync(CancellationToken.None);
            Assert.Equal(["n1"], relayA.Published);
            Assert.NotNull(await storeA.GetAsync(Keys.NodeLiveness("n1", "s1")));
            await Eventually.TrueAsync(() => tableB.Get("n1") is { } seen && seen.LastSeen >= heardAt, TimeSpan.FromSeconds(30), "s2 to hear of n1 through s1");
            Assert.Null(tableB.GetDirect("n1"));

            // Steady heartbeats to s1: no store write.
            var revision = await storeA.GetRevisionAsync();
            time.Advance(TimeSpan.FromSeconds(1));
            tableA.Touch("n1", time.GetUtcNow());
            await relayA.PublishOnceAsync(CancellationToken.None);
            Assert.Equal(revision, await storeA.GetRevisionAsync());

            // n1 silent on s1 past the relay's silence: its key goes, and s2 counts n1 as last seen a silence ago.
            time.Advance(relayA.Silence);
            await relayA.PublishOnceAsync(CancellationToken.None);
            Assert.Empty(relayA.Published);
            Assert.Null(await storeA.GetAsync(Keys.NodeLiveness("n1", "s1")));
            var expected = time.GetUtcNow() - relayB.Silence;
            await Eventually.TrueAsync(() => tableB.Get("n1")?.LastSeen == expected, TimeSpan.FromSeconds(30), "s2 to move n1's last-seen back when s1 stops relaying it");
        }
        finally
        {
            await relayB.StopAsync(CancellationToken.None);
        }
    }
}
