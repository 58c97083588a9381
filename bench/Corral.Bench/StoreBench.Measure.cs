using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Corral.Store;

namespace Corral.Bench;

internal static partial class StoreBench
{
    private const int Rounds = 3;

    private static readonly byte[] Value64 = Encoding.ASCII.GetBytes(new string('v', 64));

    /// <summary>
    /// Runs <paramref name="operation"/> in a loop on <paramref name="concurrency"/> callers for a short warm-up, then for
    /// <paramref name="duration"/>, and returns completed operations per second over the measured part.
    /// </summary>
    private static async Task<double> ThroughputAsync(int concurrency, TimeSpan duration, Func<int, long, Task> operation, CancellationToken cancellationToken)
    {
        await RunForAsync(concurrency, TimeSpan.FromMilliseconds(500), operation, cancellationToken).ConfigureAwait(false);
        var (count, elapsed) = await RunForAsync(concurrency, duration, operation, cancellationToken).ConfigureAwait(false);
        return count / elapsed.TotalSeconds;
    }

    /// <summary>
    /// Measures the store and, when given, the raw reference at the same concurrency, alternating them in
    /// <see cref="Rounds"/> rounds so that drift on a noisy machine (other load, a growing database) hits both alike.
    /// Returns operations per second of each over its measured rounds.
    /// </summary>
    private static async Task<(double Store, double? Raw)> PairedThroughputAsync(
        int concurrency, TimeSpan duration, Func<int, long, Task> store, Func<int, long, Task>? raw, CancellationToken cancellationToken)
    {
        var slice = duration / Rounds;
        var warmUp = TimeSpan.FromMilliseconds(500);
        if (raw is not null)
        {
            await RunForAsync(concurrency, warmUp, raw, cancellationToken).ConfigureAwait(false);
        }
        await RunForAsync(concurrency, warmUp, store, cancellationToken).ConfigureAwait(false);
        long storeCount = 0, rawCount = 0;
        TimeSpan storeTime = default, rawTime = default;
        for (var round = 0; round < Rounds; round++)
        {
            if (raw is not null)
            {
                var (n, t) = await RunForAsync(concurrency, slice, raw, cancellationToken).ConfigureAwait(false);
                rawCount += n;
                rawTime += t;
            }
            var (count, elapsed) = await RunForAsync(concurrency, slice, store, cancellationToken).ConfigureAwait(false);
            storeCount += count;
            storeTime += elapsed;
        }
        return (storeCount / storeTime.TotalSeconds, raw is null ? null : rawCount / rawTime.TotalSeconds);
    }

    private static async Task<(long Count, TimeSpan Elapsed)> RunForAsync(int concurrency, TimeSpan duration, Func<int, long, Task> operation, CancellationToken cancellationToken)
    {
        long total = 0;
        var start = Stopwatch.GetTimestamp();
        var workers = Enumerable.Range(0, concurrency).Select(worker => Task.Run(async () =>
        {
            long i = 0;
            while (Stopwatch.GetElapsedTime(start) < duration)
            {
                cancellationToken.ThrowIfCancellationRequested();
                await operation(worker, i++).ConfigureAwait(false);
            }
            Interlocked.Add(ref total, i);
        }, cancellationToken));
        await Task.WhenAll(workers).ConfigureAwait(false);
        return (total, Stopwatch.GetElapsedTime(start));
    }

    private static string PutKey(string prefix, int worker, long i) =>
        string.Create(CultureInfo.InvariantCulture, $"{prefix}{worker:D2}/{i % 100:D2}");

    private static Func<int, long, Task> StorePut(IClusterStore store, string prefix, CancellationToken cancellationToken) =>
        (worker, i) => store.PutAsync(PutKey(prefix, worker, i), Value64, 0, cancellationToken);

    /// <summary>Each caller increments its own counter with compare-and-swap on the mod revision (no conflicts).</summary>
    private static async Task<double> CasThroughputAsync(IClusterStore store, string prefix, int concurrency, TimeSpan duration, CancellationToken cancellationToken)
    {
        var revisions = new long[concurrency];
        for (var w = 0; w < concurrency; w++)
        {
            revisions[w] = (await store.PutAsync(PutKey(prefix, w, 0), Value64, 0, cancellationToken).ConfigureAwait(false)).Revision;
        }
        return await ThroughputAsync(concurrency, duration, async (worker, _) =>
        {
            var key = PutKey(prefix, worker, 0);
            var result = await store.TxnAsync(
                Txn.If(Compare.ModRevision(key, CompareOp.Equal, revisions[worker])).Then(new TxnOp.Put(key, Value64)).Else(new TxnOp.Get(key)),
                cancellationToken).ConfigureAwait(false);
            revisions[worker] = result.Succeeded
                ? result.Revision
                : ((TxnOpResult.Range)result.Results[0]).Result.Kvs[0].ModRevision;
            if (!result.Succeeded)
            {
                throw new InvalidOperationException($"CAS on {key} failed without contention: the store lost or reordered a write");
            }
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// One watcher on a prefix; one caller writes <paramref name="writes"/> keys one after another, each value carrying the
    /// time its put was issued. Latency is from issuing the put to the watcher receiving its event.
    /// </summary>
    private static async Task<(double P50Ms, double P99Ms, double PutP99Ms)> WatchLatencyAsync(IClusterStore store, string prefix, int writes, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var latencies = new List<double>(writes);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var watcher = Task.Run(async () =>
        {
            await foreach (var batch in store.WatchAsync(prefix, 0, cts.Token).ConfigureAwait(false))
            {
                var received = Stopwatch.GetTimestamp();
                foreach (var e in batch.Events)
                {
                    if (e.Kv.Key.EndsWith("/probe", StringComparison.Ordinal))
                    {
                        ready.TrySetResult();
                        continue;
                    }
                    var sent = BinaryPrimitives.ReadInt64LittleEndian(e.Kv.Value.Span);
                    latencies.Add(Stopwatch.GetElapsedTime(sent, received).TotalMilliseconds);
                }
                if (latencies.Count >= writes)
                {
                    return;
                }
            }
        }, cts.Token);

        // The watch is established once a probe write comes through.
        for (var i = 0; i < 200 && !ready.Task.IsCompleted; i++)
        {
            await store.PutAsync(prefix + "probe", Value64, 0, cts.Token).ConfigureAwait(false);
            await Task.WhenAny(ready.Task, Task.Delay(50, cts.Token)).ConfigureAwait(false);
        }
        if (!ready.Task.IsCompleted)
        {
            throw new InvalidOperationException("the watch delivered nothing in 10 s");
        }

        var value = new byte[64];
        var putLatencies = new List<double>(writes);
        for (var i = 0; i < writes; i++)
        {
            var issued = Stopwatch.GetTimestamp();
            BinaryPrimitives.WriteInt64LittleEndian(value, issued);
            await store.PutAsync(string.Create(CultureInfo.InvariantCulture, $"{prefix}{i % 100:D2}"), value, 0, cts.Token).ConfigureAwait(false);
            putLatencies.Add(Stopwatch.GetElapsedTime(issued).TotalMilliseconds);
        }
        var finished = await Task.WhenAny(watcher, Task.Delay(TimeSpan.FromSeconds(30), cts.Token)).ConfigureAwait(false);
        if (finished != watcher)
        {
            throw new InvalidOperationException($"the watcher received {latencies.Count} of {writes} events in 30 s");
        }
        await watcher.ConfigureAwait(false);
        latencies.Sort();
        putLatencies.Sort();
        return (Percentile(latencies, 0.50), Percentile(latencies, 0.99), Percentile(putLatencies, 0.99));
    }

    private static double Percentile(List<double> sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
}
