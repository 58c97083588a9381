using Corral.Server.Controllers;
using Corral.Server.Leadership;
using Corral.Server.State;
using Corral.Store.Etcd;
using Corral.Testing;
using Corral.Testing.Logging;
using Microsoft.Extensions.Logging;
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

    [Fact]
    public async Task PeerLeaseEnds_ItsDigestIsDroppedWithOneInformationLine_NoWarningNoException()
    {
        await using var etcd = await EtcdCluster.StartAsync(1, new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        await using var storeA = new EtcdStore(new EtcdStoreOptions { Endpoints = etcd.ClientUrls }, TimeProvider.System, NullLogger<EtcdStore>.Instance);
        await using var storeB = new EtcdStore(new EtcdStoreOptions { Endpoints = etcd.ClientUrls }, TimeProvider.System, NullLogger<EtcdStore>.Instance);
        var time = new ManualTimeProvider(DateTimeOffset.UtcNow);
        using var logs = new RecordingLoggerProvider(time);
        var tableA = new HeartbeatTable();
        var relayA = new LivenessRelay(storeA, tableA, new ControlPlaneOptions { ServerName = "s1" }, time, NullLogger<LivenessRelay>.Instance);
        using var relayB = new LivenessRelay(storeB, new HeartbeatTable(), new ControlPlaneOptions { ServerName = "s2" }, time, logs.CreateLogger<LivenessRelay>());
        tableA.Record(Heartbeat(cpu: 1, pid: 4242, restarts: 0), time.GetUtcNow());
        await relayA.PublishOnceAsync(CancellationToken.None);
        await relayB.StartAsync(CancellationToken.None);
        try
        {
            await Eventually.TrueAsync(() => relayB.DigestPeers.Contains("s1"), TimeSpan.FromSeconds(30), "s2 to hold s1's digest");

            // What a leadership change does to the server that lost it (killed, cut off, stopped): its lease ends and
            // its keys are deleted with it; every other server's watch sees the digest's deletion.
            var lease = (await storeA.GetAsync(Keys.NodeDigest("s1")))!.Lease;
            await storeA.RevokeLeaseAsync(lease);
            await Eventually.TrueAsync(() => relayB.DigestPeers.Count == 0, TimeSpan.FromSeconds(30), "s2 to drop s1's digest");

            var records = logs.Records;
            Assert.DoesNotContain(records, r => r.Level >= LogLevel.Warning);
            Assert.DoesNotContain(records, r => r.Exception is not null);
            var gone = Assert.Single(records, r => r.EventId.Id == 4610);
            Assert.Equal(LogLevel.Information, gone.Level);
            Assert.Contains("s1", gone.Message, StringComparison.Ordinal);
        }
        finally
        {
            await relayB.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task UnreadableDigest_DroppedAndReportedOnceUntilReadableAgain_WithoutStackTrace()
    {
        await using var etcd = await EtcdCluster.StartAsync(1, new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        await using var store = new EtcdStore(new EtcdStoreOptions { Endpoints = etcd.ClientUrls }, TimeProvider.System, NullLogger<EtcdStore>.Instance);
        var time = new ManualTimeProvider(DateTimeOffset.UtcNow);
        using var logs = new RecordingLoggerProvider(time);
        using var relay = new LivenessRelay(store, new HeartbeatTable(), new ControlPlaneOptions { ServerName = "s2" }, time, logs.CreateLogger<LivenessRelay>());
        var readable = LivenessRelay.Encode(new Corral.Core.Api.NodeDigest("s3", []));
        await relay.StartAsync(CancellationToken.None);
        try
        {
            int Unreadable() => logs.Records.Count(r => r.EventId.Id == 4609);
            await store.PutAsync(Keys.NodeDigest("s3"), "not gzip"u8.ToArray());
            await Eventually.TrueAsync(() => Unreadable() == 1, TimeSpan.FromSeconds(30), "the unreadable digest to be reported");
            await store.PutAsync(Keys.NodeDigest("s3"), "still not gzip"u8.ToArray());
            await store.PutAsync(Keys.NodeDigest("s3"), readable);
            await Eventually.TrueAsync(() => relay.DigestPeers.Contains("s3"), TimeSpan.FromSeconds(30), "the readable digest to be taken");
            Assert.Equal(1, Unreadable());

            await store.PutAsync(Keys.NodeDigest("s3"), "broken again"u8.ToArray());
            await Eventually.TrueAsync(() => Unreadable() == 2 && relay.DigestPeers.Count == 0, TimeSpan.FromSeconds(30), "a new unreadable digest after a readable one to be reported");
            var reports = logs.Records.Where(r => r.EventId.Id == 4609).ToList();
            Assert.All(reports, r => Assert.Equal(LogLevel.Warning, r.Level));
            Assert.All(reports, r => Assert.Null(r.Exception));
            Assert.Contains("/corral/digests/s3", reports[0].Message, StringComparison.Ordinal);
        }
        finally
        {
            await relay.StopAsync(CancellationToken.None);
        }
    }

    private static Corral.Core.Api.AgentHeartbeat Heartbeat(double cpu, int pid, int restarts) =>
        new("n1", [new Corral.Core.Api.ReplicaReport("r1", Corral.Core.Tasks.ReplicaState.Running, DateTimeOffset.UnixEpoch, "started", pid, null, null, 1, 1024, restarts)], cpu, 512, 0.1, 900, 1000);
}
