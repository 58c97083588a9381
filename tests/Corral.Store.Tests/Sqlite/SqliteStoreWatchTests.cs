using Corral.Store.Sqlite;
using Corral.Testing;
using static Corral.Store.Tests.Sqlite.SqliteStoreFixture;

namespace Corral.Store.Tests.Sqlite;

/// <summary>The SQLite watch fan-out: hand-over from history to live, and a slow consumer.</summary>
public sealed class SqliteStoreWatchTests : IDisposable
{
    private readonly TempDirectory _directory = new("corral-sqlite");

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Watch_SlowConsumerBeyondQueueCapacity_StillGetsEveryRevisionOnceInOrder()
    {
        await using var store = Open(Options(_directory) with { WatchQueueCapacity = 16 });
        using var cts = new CancellationTokenSource(Patience);
        await using var watch = store.WatchAsync("/w/", 0, cts.Token).GetAsyncEnumerator(cts.Token);
        var first = watch.MoveNextAsync().AsTask();
        await store.PutAsync("/w/k", Bytes("0"));
        Assert.True(await first);
        var revisions = new List<long> { watch.Current.Revision };

        // The consumer reads nothing while 500 revisions are written: its queue overflows after 16.
        for (var i = 1; i <= 500; i++)
        {
            await store.PutAsync("/w/k", Bytes(i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }
        var last = await store.GetRevisionAsync();
        while (revisions[^1] < last)
        {
            Assert.True(await watch.MoveNextAsync());
            revisions.Add(watch.Current.Revision);
            Assert.Equal((revisions.Count - 1).ToString(System.Globalization.CultureInfo.InvariantCulture), Assert.Single(watch.Current.Events).Kv.ValueString);
        }
        Assert.Equal(Enumerable.Range(0, 501).Select(i => revisions[0] + i), revisions);

        // And it is live again afterwards.
        var next = watch.MoveNextAsync().AsTask();
        var put = await store.PutAsync("/w/k", Bytes("501"));
        Assert.True(await next);
        Assert.Equal(put.Revision, watch.Current.Revision);
    }

    [Fact]
    public async Task Watch_StartedFromThePastWhileWritesContinue_HandsOverToLiveWithoutGapOrDuplicate()
    {
        await using var store = Open(Options(_directory));
        var from = await store.GetRevisionAsync() + 1;
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        const int Writes = 2000;
        var writer = Task.Run(async () =>
        {
            for (var i = 0; i < Writes; i++)
            {
                await store.PutAsync($"/h/{i % 7}", Bytes("v"), cancellationToken: cts.Token);
            }
        });

        // Watchers start at staggered moments, each from the same past revision: some replay a lot, some little.
        var watchers = new List<Task<List<long>>>();
        for (var w = 0; w < 12; w++)
        {
            watchers.Add(Task.Run(async () =>
            {
                var seen = new List<long>();
                await foreach (var batch in store.WatchAsync("/h/", from, cts.Token))
                {
                    seen.Add(batch.Revision);
                    if (seen.Count == Writes)
                    {
                        break;
                    }
                }
                return seen;
            }));
            await Task.Delay(15);
        }
        await writer;
        foreach (var watcher in watchers)
        {
            Assert.Equal(Enumerable.Range(0, Writes).Select(i => from + i), await watcher);
        }
    }

    [Fact]
    public async Task Watch_FromAFutureRevision_WaitsForIt()
    {
        await using var store = Open(Options(_directory));
        var current = await store.GetRevisionAsync();
        using var cts = new CancellationTokenSource(Patience);
        var watch = Task.Run(async () =>
        {
            await foreach (var batch in store.WatchAsync("/f/", current + 3, cts.Token))
            {
                return batch;
            }
            throw new InvalidOperationException("the watch ended");
        });
        await store.PutAsync("/f/1", Bytes("1"));
        await store.PutAsync("/f/2", Bytes("2"));
        await store.PutAsync("/f/3", Bytes("3"));
        var first = await watch;
        Assert.Equal(current + 3, first.Revision);
        Assert.Equal("/f/3", Assert.Single(first.Events).Kv.Key);
    }
}
