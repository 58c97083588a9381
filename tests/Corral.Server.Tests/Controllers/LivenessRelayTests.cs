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

    [Fact]
    public async Task NodeStatsAndPidsOnS1_S2SeesThem_DigestWrittenOnlyWithAPeerOnChangeAndAtMostEveryInterval()
    {
        await using var etcd = await EtcdCluster.StartAsync(1, new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        await using var storeA = new EtcdStore(new EtcdStoreOptions { Endpoints = etcd.ClientUrls }, TimeProvider.System, NullLogger<EtcdStore>.Instance);
        await using var storeB = new EtcdStore(new EtcdStoreOptions { Endpoints = etcd.ClientUrls }, TimeProvider.System, NullLogger<EtcdStore>.Instance);
        var time = new ManualTimeProvider(DateTimeOffset.UtcNow);
        var tableA = new HeartbeatTable();
        var tableB = new HeartbeatTable();
        var relayA = new LivenessRelay(storeA, tableA, new ControlPlaneOptions { ServerName = "s1" }, time, NullLogger<LivenessRelay>.Instance);
        using var relayB = new LivenessRelay(storeB, tableB, new ControlPlaneOptions { ServerName = "s2" }, time, NullLogger<LivenessRelay>.Instance);

        // Alone: the digest is written once (with the lease), later changes are not.
        tableA.Record(Heartbeat(cpu: 12.5, pid: 4242, restarts: 1), time.GetUtcNow());
        await relayA.PublishOnceAsync(CancellationToken.None);
        Assert.NotNull(await storeA.GetAsync(Keys.NodeDigest("s1")));
        var alone = await storeA.GetRevisionAsync();
        time.Advance(LivenessRelay.DigestInterval);
        tableA.Record(Heartbeat(cpu: 13, pid: 4243, restarts: 2), time.GetUtcNow());
        await relayA.PublishOnceAsync(CancellationToken.None);
        Assert.Equal(alone, await storeA.GetRevisionAsync());

        await relayB.StartAsync(CancellationToken.None);
        try
        {
            // s2 reads s1's digest: n1's stats and its replica's PID and restarts, without a heartbeat of its own.
            await Eventually.TrueAsync(() => tableB.GetReplica("r1")?.Pid == 4242 && tableB.Get("n1")?.CpuPercent == 12.5,
                TimeSpan.FromSeconds(30), "s2 to read n1's stats and r1's pid from s1's digest");
            Assert.Equal((900L, 1000L), (tableB.Get("n1")!.DiskUsedBytes, tableB.Get("n1")!.DiskTotalBytes));
            Assert.Null(tableB.GetDirect("n1"));

            // With a peer: the changed digest is written (one write), and s2 sees the new PID and restart count.
            await Eventually.ValueAsync(() => storeA.GetAsync(Keys.NodeDigest("s2")), TimeSpan.FromSeconds(30), "s2's digest key");
            await relayA.LoadDigestsAsync(CancellationToken.None);
            Assert.Equal(["s2"], relayA.DigestPeers);
            var before = await storeA.GetRevisionAsync();
            await relayA.PublishOnceAsync(CancellationToken.None);
            Assert.Equal(before + 1, await storeA.GetRevisionAsync());
            await Eventually.TrueAsync(() => tableB.GetReplica("r1") is { Pid: 4243, Restarts: 2 }, TimeSpan.FromSeconds(30), "s2 to see r1's new pid");

            // A change within the interval waits for it, then is one write.
            before = await storeA.GetRevisionAsync();
            time.Advance(LivenessRelay.DigestInterval / 4);
            tableA.Record(Heartbeat(cpu: 80, pid: 4244, restarts: 3), time.GetUtcNow());
            await relayA.PublishOnceAsync(CancellationToken.None);
            Assert.Equal(before, await storeA.GetRevisionAsync());
            time.Advance(LivenessRelay.DigestInterval);
            tableA.Record(Heartbeat(cpu: 80, pid: 4244, restarts: 3), time.GetUtcNow());
            await relayA.PublishOnceAsync(CancellationToken.None);
            Assert.Equal(before + 1, await storeA.GetRevisionAsync());
            await Eventually.TrueAsync(() => tableB.GetReplica("r1") is { Pid: 4244, Restarts: 3 } && tableB.Get("n1")?.CpuPercent == 80,
                TimeSpan.FromSeconds(30), "s2 to see n1's latest stats");

            // Only heartbeat times changed: no write.
            time.Advance(LivenessRelay.DigestInterval);
            tableA.Record(Heartbeat(cpu: 80, pid: 4244, restarts: 3), time.GetUtcNow());
            before = await storeA.GetRevisionAsync();
            await relayA.PublishOnceAsync(CancellationToken.None);
            Assert.Equal(before, await storeA.GetRevisionAsync());

            // n1 moves to s2: its own, newer heartbeat wins over s1's digest.
            time.Advance(TimeSpan.FromSeconds(1));
            tableB.Record(Heartbeat(cpu: 5, pid: 4244, restarts: 3), time.GetUtcNow());
            Assert.Equal(5.0, tableB.Get("n1")!.CpuPercent);
        }
        finally
        {
            await relayB.StopAsync(CancellationToken.None);
        }
    }

    private static Corral.Core.Api.AgentHeartbeat Heartbeat(double cpu, int pid, int restarts) =>
        new("n1", [new Corral.Core.Api.ReplicaReport("r1", Corral.Core.Tasks.ReplicaState.Running, DateTimeOffset.UnixEpoch, "started", pid, null, null, 1, 1024, restarts)], cpu, 512, 0.1, 900, 1000);
}
