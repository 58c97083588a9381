using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Corral.Store.Etcd;
using Corral.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Corral.Store.Tests.Etcd;

/// <summary>Member failure under load on a real 3-member etcd cluster, and an unreachable cluster.</summary>
public sealed class EtcdFailoverTests(EtcdThreeMemberFixture etcd, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<EtcdThreeMemberFixture>
{
    private const int Writers = 4;
    private const int WritesPerWriter = 150;
    private const int Watchers = 3;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task KillMember_DuringWritesAndWatches_WritesContinueWatchesExactlyOnceNothingLost(bool killLeader)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var ct = cts.Token;
        var cluster = etcd.Cluster;
        await EnsureAllRunningAsync(cluster, ct);
        var leader = await cluster.WaitForLeaderAsync(ct);
        var victim = killLeader ? leader : (leader + 1) % 3;
        // The victim is the store's first endpoint, so its connections, watches and writes are the ones that break.
        var endpoints = new[] { victim, (victim + 1) % 3, (victim + 2) % 3 }.Select(i => cluster.ClientUrls[i]).ToArray();
        // A generous retry budget: on a loaded 2-core machine an etcd election plus in-flight timeouts can take a while.
        await using var store = new EtcdStore(new EtcdStoreOptions { Endpoints = endpoints, RetryTimeout = TimeSpan.FromSeconds(30) }, TimeProvider.System, NullLogger<EtcdStore>.Instance);
        var prefix = $"/failover/{Guid.NewGuid():N}/";
        var start = await store.GetRevisionAsync(ct) + 1;

        using var stopWatchers = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var seen = Enumerable.Range(0, Watchers).Select(_ => new List<WatchBatch>()).ToArray();
        var watchers = seen.Select(list => Task.Run(async () =>
        {
            try
            {
                await foreach (var batch in store.WatchAsync(prefix, start, stopWatchers.Token))
                {
                    lock (list)
                    {
                        list.Add(batch);
                    }
                }
            }
            catch (OperationCanceledException) when (stopWatchers.IsCancellationRequested)
            {
            }
        })).ToArray();

        // A lease kept alive through the failure keeps its key.
        // The TTL covers an etcd leader election on a loaded machine plus the store's RequestTimeout.
        var lease = await store.GrantLeaseAsync(TimeSpan.FromSeconds(15), ct);
        await store.PutAsync(prefix + "leased", Encoding.UTF8.GetBytes("alive"), lease.Id, ct);
        var renewals = 0;
        var keepAlive = Task.Run(async () =>
        {
            try
            {
                await foreach (var _ in store.KeepAliveAsync(lease.Id, TimeSpan.FromSeconds(1), stopWatchers.Token))
                {
                    Interlocked.Increment(ref renewals);
                }
            }
            catch (OperationCanceledException) when (stopWatchers.IsCancellationRequested)
            {
            }
        });

        var acknowledged = new ConcurrentDictionary<string, long>();
        var failedAttempts = 0;
        var written = 0;
        var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            for (var n = 0; n < WritesPerWriter; n++)
            {
                var key = $"{prefix}w{w}/{n:D4}";
                for (var attempt = 0; ; attempt++)
                {
                    try
                    {
                        var put = await store.PutAsync(key, Encoding.UTF8.GetBytes(key), cancellationToken: ct);
                        acknowledged[key] = put.Revision;
                        Interlocked.Increment(ref written);
                        break;
                    }
                    catch (StoreException) when (attempt < 20)
                    {
                        // A write in flight on the killed member may or may not have been applied; writing the same
                        // key and value again is safe for this test (each key's acknowledged revision is checked).
                        Interlocked.Increment(ref failedAttempts);
                        await Task.Delay(100, ct);
                    }
                }
            }
        })).ToArray();

        await WaitUntilAsync(() => Volatile.Read(ref written) >= Writers * WritesPerWriter / 3, () => $"only {written} writes before the kill", ct);
        var killedAt = Stopwatch.StartNew();
        await cluster.KillAsync(victim, ct);
        var writtenAtKill = Volatile.Read(ref written);
        await Task.WhenAll(writers).WaitAsync(ct);
        Assert.True(Volatile.Read(ref written) - writtenAtKill > 0, "no write was acknowledged after the kill");
        output.WriteLine($"killed member {victim} (leader: {killLeader}) after {writtenAtKill} writes; {failedAttempts} write attempts failed; writes done {killedAt.Elapsed.TotalMilliseconds:0} ms after the kill; store now on {store.CurrentEndpoint}");

        var renewalsAfterWrites = Volatile.Read(ref renewals);
        await WaitUntilAsync(() => Volatile.Read(ref renewals) >= renewalsAfterWrites + 2, () => $"keep-alive stalled: {keepAlive.Exception}", ct);
        Assert.False(keepAlive.IsFaulted, keepAlive.Exception?.ToString());
        Assert.Equal("alive", (await store.GetAsync(prefix + "leased", ct))?.ValueString);

        var last = await store.GetRevisionAsync(ct);
        await WaitUntilAsync(
            () => seen.All(list => { lock (list) { return list.Count > 0 && list[^1].Revision >= last; } }),
            () => $"watchers behind revision {last}: {string.Join("; ", watchers.Select(w => w.Exception?.ToString() ?? w.Status.ToString()))}",
            ct);
        await stopWatchers.CancelAsync();
        await Task.WhenAll(watchers).WaitAsync(ct);
        await keepAlive.WaitAsync(ct);

        // Reference history, read after the fact from the surviving members.
        var reference = new List<WatchBatch>();
        using (var referenceCts = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            await foreach (var batch in store.WatchAsync(prefix, start, referenceCts.Token))
            {
                reference.Add(batch);
                if (batch.Revision >= last)
                {
                    break;
                }
            }
        }
        var expected = reference.SelectMany(b => b.Events.Select(e => (b.Revision, e.Kv.Key))).ToList();
        foreach (var list in seen)
        {
            var revisions = list.Select(b => b.Revision).ToList();
            Assert.Equal(revisions.Distinct().Count(), revisions.Count);
            Assert.True(revisions.SequenceEqual(revisions.Order()), "watch batches out of revision order");
            Assert.Equal(expected, list.SelectMany(b => b.Events.Select(e => (b.Revision, e.Kv.Key))).ToList());
        }
        var watched = expected.ToHashSet();
        Assert.Equal(Writers * WritesPerWriter, acknowledged.Count);
        foreach (var (key, revision) in acknowledged)
        {
            var kv = await store.GetAsync(key, ct);
            Assert.NotNull(kv);
            Assert.Equal(revision, kv.ModRevision);
            Assert.Contains((revision, key), watched);
        }

        await cluster.RestartAsync(victim, ct);
        await using var rejoined = new EtcdStore(new EtcdStoreOptions { Endpoints = [cluster.ClientUrls[victim]] }, TimeProvider.System, NullLogger<EtcdStore>.Instance);
        Assert.Equal(Writers * WritesPerWriter + 1, (await rejoined.RangeAsync(prefix, new RangeOptions { KeysOnly = true }, ct)).Count);
        Assert.True(killedAt.Elapsed < TimeSpan.FromSeconds(110), $"failover took {killedAt.Elapsed}");
    }

    [Fact]
    public async Task Status_MemberKilled_ReportedUnhealthyWhileQuorumHolds()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var ct = cts.Token;
        var cluster = etcd.Cluster;
        await EnsureAllRunningAsync(cluster, ct);
        await using var store = new EtcdStore(new EtcdStoreOptions { Endpoints = cluster.ClientUrls }, TimeProvider.System, NullLogger<EtcdStore>.Instance);
        var healthy = await store.GetStatusAsync(ct);
        Assert.Equal(3, healthy.Members.Count);
        Assert.All(healthy.Members, m => Assert.True(m.Healthy, m.Error));
        Assert.Single(healthy.Members, m => m.IsLeader);
        Assert.Equal((2, 1), (healthy.Majority, healthy.FaultTolerance));

        var leader = await cluster.WaitForLeaderAsync(ct);
        var victim = (leader + 1) % 3;
        await cluster.KillAsync(victim, ct);
        var degraded = await store.GetStatusAsync(ct);
        var down = Assert.Single(degraded.Members, m => !m.Healthy);
        Assert.Equal(cluster.ClientUrls[victim], down.Endpoint);
        Assert.False(string.IsNullOrEmpty(down.Error));
        Assert.True(degraded.HasQuorum);
        await cluster.RestartAsync(victim, ct);
    }

    [Fact]
    public async Task AllEndpointsUnreachable_CallsAndWatchesFailNamingEveryEndpoint()
    {
        var endpoints = Enumerable.Range(0, 3).Select(_ => $"http://127.0.0.1:{FreePorts.Next()}").ToArray();
        var options = new EtcdStoreOptions { Endpoints = endpoints, RetryTimeout = TimeSpan.FromSeconds(2), RetryBackoffMax = TimeSpan.FromMilliseconds(200) };
        await using var store = new EtcdStore(options, TimeProvider.System, NullLogger<EtcdStore>.Instance);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var watch = Stopwatch.StartNew();
        var put = await Assert.ThrowsAsync<StoreUnavailableException>(() => store.PutAsync("/x", Encoding.UTF8.GetBytes("v"), cancellationToken: cts.Token));
        var get = await Assert.ThrowsAsync<StoreUnavailableException>(() => store.GetAsync("/x", cts.Token));
        var watchError = await Assert.ThrowsAsync<StoreUnavailableException>(async () =>
        {
            await foreach (var _ in store.WatchAsync("/x", 0, cts.Token))
            {
            }
        });
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"took {watch.Elapsed} to give up");
        foreach (var error in new[] { put, get, watchError })
        {
            foreach (var endpoint in endpoints)
            {
                Assert.Contains(endpoint, error.Message, StringComparison.Ordinal);
            }
        }
        var status = await store.GetStatusAsync(cts.Token);
        Assert.False(status.HasQuorum);
        Assert.Equal(endpoints, status.Members.Select(m => m.Endpoint));
    }

    private static async Task WaitUntilAsync(Func<bool> condition, Func<string> describe, CancellationToken ct)
    {
        for (var attempt = 0; attempt < 2400 && !condition(); attempt++)
        {
            await Task.Delay(25, ct);
        }
        Assert.True(condition(), "not reached within 60 s: " + describe());
    }

    /// <summary>A test that failed may have left a member down: bring every member back first.</summary>
    private static async Task EnsureAllRunningAsync(EtcdCluster cluster, CancellationToken ct)
    {
        for (var i = 0; i < cluster.Members.Count; i++)
        {
            if (!cluster.IsRunning(i))
            {
                await cluster.RestartAsync(i, ct);
            }
        }
        await cluster.WaitHealthyAsync(ct);
    }
}
