using Corral.Core.Api;
using Corral.Core.Cluster;
using Corral.Server.Controllers;
using Corral.Server.State;
using Corral.Store;
using Corral.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Corral.Server.Tests.State;

/// <summary>The event log (reads with filters, paging, retention) on one store backend; subclassed per backend.</summary>
/// <remarks>Tests of one class run one after another; each starts by emptying the event prefix of the shared store.</remarks>
public abstract class EventLogTestsBase
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 10, 0, 0, TimeSpan.Zero);

    /// <summary>A store client; the test disposes it. It may share its data with the other tests of the class.</summary>
    protected abstract Task<IClusterStore> CreateStoreAsync();

    private static async Task<(IClusterStore Store, ClusterState State, ManualTimeProvider Time)> StartAsync(Task<IClusterStore> create)
    {
        var store = await create;
        await store.DeletePrefixAsync(Keys.Events);
        var time = new ManualTimeProvider(T0);
        return (store, new ClusterState(store, time), time);
    }

    private static Replica Replica(string id, string service, string? node) =>
        new() { Id = id, Service = service, Version = "v1", Node = node };

    [Fact]
    public async Task Read_SeveralEventsInOneRevisionAndASmallLimit_EveryEventOnceWithItsOwnId()
    {
        var (store, state, _) = await StartAsync(CreateStoreAsync());
        await using var _ = store;
        // One transaction, three events (a scale by three replicas), then one more.
        await store.TxnAsync(new Txn([], [
            state.ReplicaEventOp("replica.placed", Replica("web-1", "web", "a"), "placed on node a", "leader:s1"),
            state.ReplicaEventOp("replica.placed", Replica("web-2", "web", "b"), "placed on node b", "leader:s1"),
            state.ReplicaEventOp("replica.placed", Replica("web-3", "web", "a"), "placed on node a", "leader:s1"),
        ], []));
        await state.AppendEventAsync("service.scaled", "service/web", "scaled", "key:admin", CancellationToken.None);

        var seen = new List<ClusterEvent>();
        long index = 0;
        for (var i = 0; i < 5; i++)
        {
            var page = await state.EventsAfterAsync(index, 2, CancellationToken.None);
            seen.AddRange(page.Events);
            if (page.Events.Count == 0)
            {
                break;
            }
            index = page.Index;
        }

        Assert.Equal(["web-1", "web-2", "web-3"], seen.Where(e => e.Kind == "replica.placed").Select(e => e.Subject["replica/".Length..]).Order());
        Assert.Single(seen, e => e.Kind == "service.scaled");
        Assert.Equal(4, seen.Select(e => e.Id).Distinct().Count());
        Assert.All(seen, e => Assert.Matches("^[0-9]{15}-[0-9a-f]{32}$", e.Id));
        var placed = seen.Where(e => e.Kind == "replica.placed").ToList();
        Assert.All(placed, e => Assert.Equal("web", e.Service));
        Assert.Equal(["a", "a", "b"], placed.Select(e => e.Node!).Order());
        Assert.Equal("web", Assert.Single(seen, e => e.Kind == "service.scaled").Service);
    }

    [Fact]
    public async Task Read_TailSinceAndFilters_ReturnOnlyTheMatchingEventsOldestFirst()
    {
        var (store, state, time) = await StartAsync(CreateStoreAsync());
        await using var _ = store;
        // 40 events a minute apart: even ones replica.failed of api on node n1, odd ones node.down of node n2.
        for (var i = 0; i < 40; i++)
        {
            var op = i % 2 == 0
                ? state.ReplicaEventOp("replica.failed", Replica($"api-{i}", "api", "n1"), $"event {i}", "node:n1")
                : state.EventOp("node.down", "node/n2", $"event {i}", "leader:s1");
            await store.TxnAsync(new Txn([], [op], []));
            time.Advance(TimeSpan.FromMinutes(1));
        }
        // now = T0 + 40 min; event i happened at T0 + i min.
        static IEnumerable<string> Messages(EventPage page) => page.Events.Select(e => e.Message);

        var tail = await state.ReadEventsAsync(new EventQuery(0, 1000) { Tail = 3 }, CancellationToken.None);
        Assert.Equal(["event 37", "event 38", "event 39"], Messages(tail));

        var since = await state.ReadEventsAsync(new EventQuery(0, 1000) { Since = T0.AddMinutes(35) }, CancellationToken.None);
        Assert.Equal(Enumerable.Range(35, 5).Select(i => $"event {i}"), Messages(since));

        var failedTail = await state.ReadEventsAsync(new EventQuery(0, 1000) { Tail = 2, Filter = new EventFilter(["replica"], null, null) }, CancellationToken.None);
        Assert.Equal(["event 36", "event 38"], Messages(failedTail));

        var byService = await state.ReadEventsAsync(new EventQuery(0, 1000) { Since = T0.AddMinutes(30), Filter = new EventFilter([], "api", null) }, CancellationToken.None);
        Assert.Equal(["event 30", "event 32", "event 34", "event 36", "event 38"], Messages(byService));

        var byNode = await state.ReadEventsAsync(new EventQuery(0, 1000) { Tail = 2, Filter = new EventFilter(["node.down", "replica.failed"], null, "n2") }, CancellationToken.None);
        Assert.Equal(["event 37", "event 39"], Messages(byNode));

        var none = await state.ReadEventsAsync(new EventQuery(0, 1000) { Filter = new EventFilter(["replica.fail"], null, null) }, CancellationToken.None);
        Assert.Empty(none.Events);

        // A tail with a smaller limit pages on by index through the rest of the tail.
        var first = await state.ReadEventsAsync(new EventQuery(0, 2) { Tail = 5 }, CancellationToken.None);
        Assert.Equal(["event 35", "event 36"], Messages(first));
        var rest = await state.ReadEventsAsync(new EventQuery(first.Index, 1000), CancellationToken.None);
        Assert.Equal(["event 37", "event 38", "event 39"], Messages(rest));
    }

    [Fact]
    public async Task Retention_OverAgeAndCount_DeletesTheOldestUntilBothHold()
    {
        var (store, state, time) = await StartAsync(CreateStoreAsync());
        await using var _ = store;
        // 450 events, one a second, in transactions of 50 (etcd allows 128 operations per transaction).
        for (var batch = 0; batch < 9; batch++)
        {
            var ops = new List<TxnOp>();
            for (var i = 0; i < 50; i++)
            {
                ops.Add(state.EventOp("node.up", "node/n1", $"event {(batch * 50) + i}", "leader:s1"));
                time.Advance(TimeSpan.FromSeconds(1));
            }
            await store.TxnAsync(new Txn([], ops, []));
        }
        // now = T0 + 450 s. An age limit of 6 min (360 s) drops events 0..89; a count limit of 300 then drops 90..149.
        var controller = new EventRetentionController(state, new EventRetentionOptions { MaxAge = TimeSpan.FromMinutes(6), MaxCount = 300 }, time, NullLogger<EventRetentionController>.Instance);

        var deleted = await controller.EnforceOnceAsync(null, CancellationToken.None);

        Assert.Equal(150, deleted);
        var left = await state.EventsAfterAsync(0, 10_000, CancellationToken.None);
        Assert.Equal(Enumerable.Range(150, 300).Select(i => $"event {i}"), left.Events.Select(e => e.Message));
        Assert.Equal(0, await controller.EnforceOnceAsync(null, CancellationToken.None));
    }

    [Fact]
    public async Task Retention_GuardRefused_DeletesNothing()
    {
        var (store, state, time) = await StartAsync(CreateStoreAsync());
        await using var _ = store;
        await state.AppendEventAsync("node.up", "node/n1", "old", "leader:s1", CancellationToken.None);
        time.Advance(TimeSpan.FromDays(8));
        var controller = new EventRetentionController(state, new EventRetentionOptions(), time, NullLogger<EventRetentionController>.Instance);

        var deleted = await controller.EnforceOnceAsync(Compare.Exists("/corral/test/no-such-leader-key"), CancellationToken.None);

        Assert.Equal(0, deleted);
        Assert.Single((await state.EventsAfterAsync(0, 100, CancellationToken.None)).Events);
        Assert.Equal(1, await controller.EnforceOnceAsync(null, CancellationToken.None));
    }

    [Fact]
    public void Options_Invalid_EveryProblemNamed()
    {
        var errors = new EventRetentionOptions { MaxCount = 5, MaxAge = TimeSpan.FromSeconds(5), Interval = TimeSpan.Zero }.Validate();
        Assert.Equal(3, errors.Count);
        Assert.Contains(errors, e => e.Contains("MaxCount", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("MaxAge", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("Interval", StringComparison.Ordinal));
        Assert.Empty(new EventRetentionOptions().Validate());
    }
}
