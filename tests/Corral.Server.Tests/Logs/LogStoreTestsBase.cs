using Corral.Core.Api;
using Corral.Server.Logs;
using Corral.Server.State;
using Corral.Store;
using Corral.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Corral.Server.Tests.Logs;

/// <summary>The log store and its retention on one store backend; subclassed per backend.</summary>
public abstract class LogStoreTestsBase
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 22, 10, 0, 0, TimeSpan.Zero);

    /// <summary>A new, empty store; the test disposes it.</summary>
    protected abstract Task<IClusterStore> CreateStoreAsync();

    /// <summary>A prefix of its own per test, so tests can share one backend.</summary>
    private readonly string _service = "svc" + Guid.NewGuid().ToString("N")[..8];

    private AgentLogChunk Chunk(string replica, long from, int count, int lineBytes = 20)
    {
        var lines = Enumerable.Range(0, count).Select(i => new AgentLogLine(from + ((long)i * lineBytes), T0.AddSeconds(from + i), "stdout", $"{replica} {from + ((long)i * lineBytes)}")).ToList();
        return new AgentLogChunk(replica, _service, from, from + ((long)count * lineBytes), lines);
    }

    [Fact]
    public async Task Read_ManyChunksAcrossPagesWithAnOverlappingResend_EveryLineOnceInOrder()
    {
        await using var store = await CreateStoreAsync();
        var logs = new LogStore(store);
        // 150 chunks of 4 lines: more than two pages of a read.
        for (var i = 0; i < 150; i++)
        {
            await logs.WriteAsync("n1", [Chunk("r-1", i * 80L, 4)], CancellationToken.None);
        }
        await logs.WriteAsync("n1", [Chunk("r-1", 40, 10)], CancellationToken.None);

        var (records, revision) = await logs.ReadAsync(new LogQuery(_service), new LogCursor(), CancellationToken.None);

        Assert.Equal(600, records.Count);
        Assert.Equal(Enumerable.Range(0, 600).Select(i => i * 20L), records.Select(r => r.Offset));
        Assert.True(revision >= 151);
        var (tail, _) = await logs.ReadAsync(new LogQuery(_service, ReplicaId: "r-1", Tail: 3), new LogCursor(), CancellationToken.None);
        Assert.Equal([597 * 20L, 598 * 20L, 599 * 20L], tail.Select(r => r.Offset));
        Assert.True(await logs.HasLogsAsync(_service, CancellationToken.None));
        Assert.False(await logs.HasLogsAsync(_service + "x", CancellationToken.None));
    }

    [Fact]
    public async Task Follow_AfterARead_StreamsOnlyNewLinesOnce()
    {
        await using var store = await CreateStoreAsync();
        var logs = new LogStore(store);
        await logs.WriteAsync("n1", [Chunk("r-1", 0, 2)], CancellationToken.None);
        var cursor = new LogCursor();
        var (records, revision) = await logs.ReadAsync(new LogQuery(_service), cursor, CancellationToken.None);
        Assert.Equal(2, records.Count);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var follow = logs.FollowAsync(new LogQuery(_service, Node: "n2"), cursor, revision, stop.Token).GetAsyncEnumerator(stop.Token);

        await logs.WriteAsync("n1", [Chunk("r-1", 0, 3)], CancellationToken.None);
        await logs.WriteAsync("n2", [Chunk("r-2", 0, 1)], CancellationToken.None);

        Assert.True(await follow.MoveNextAsync());
        Assert.Equal(("r-2", "n2", 0L), (follow.Current.ReplicaId, follow.Current.Node, follow.Current.Offset));
    }

    [Fact]
    public async Task Retention_OverSizeThenOverAge_OldestChunksGo()
    {
        await using var store = await CreateStoreAsync();
        var logs = new LogStore(store);
        var time = new ManualTimeProvider(T0.AddSeconds(10_000));
        for (var i = 0; i < 20; i++)
        {
            await logs.WriteAsync("n1", [Chunk("r-1", i * 100_000L, 1, 100_000) with { Lines = [new AgentLogLine(i * 100_000L, T0.AddSeconds(i), "stdout", new string('x', 100_000))] }], CancellationToken.None);
        }
        // Other tests' chunks on a shared backend are newer and small: this test's oldest go first.
        var controller = new LogRetentionController(new ClusterState(store, time), new LogRetentionOptions { MaxBytes = 1024 * 1024, MaxAge = TimeSpan.FromDays(1) }, time, NullLogger<LogRetentionController>.Instance);

        var deleted = await controller.EnforceOnceAsync(CancellationToken.None);

        var kept = (await store.RangeAsync(Keys.Logs + _service + "/")).Kvs;
        Assert.True(deleted >= 10, $"{deleted} chunks deleted");
        Assert.InRange(kept.Count, 1, 10);
        Assert.Equal(Keys.LogChunk(_service, "r-1", 19 * 100_000L), kept[^1].Key);
        Assert.DoesNotContain(kept, k => k.Key == Keys.LogChunk(_service, "r-1", 0));

        time.Advance(TimeSpan.FromDays(2));
        await controller.EnforceOnceAsync(CancellationToken.None);
        Assert.Empty((await store.RangeAsync(Keys.Logs + _service + "/")).Kvs);
    }
}
