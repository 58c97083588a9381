using System.Diagnostics;
using Corral.Store;

namespace Corral.Server.Metrics;

/// <summary>
/// An <see cref="IClusterStore"/> that records each request's latency and failures in
/// <see cref="Instrumentation.StoreRequestDuration"/> and <see cref="Instrumentation.StoreErrors"/> (label <c>op</c>),
/// and otherwise passes everything to the store it wraps. Streams (watch, keep-alive, leader observation) are not timed.
/// Owns the inner store: disposing this disposes it.
/// </summary>
public sealed class InstrumentedStore(IClusterStore inner) : IClusterStore
{
    /// <summary>The wrapped store.</summary>
    public IClusterStore Inner { get; } = inner ?? throw new ArgumentNullException(nameof(inner));

    /// <summary>The backend behind <paramref name="store"/>: its <see cref="Inner"/> store when it is instrumented, else itself.</summary>
    public static IClusterStore Unwrap(IClusterStore store) => store is InstrumentedStore instrumented ? instrumented.Inner : store;

    public string Kind => Inner.Kind;

    public Task<long> GetRevisionAsync(CancellationToken cancellationToken = default) => Timed("revision", () => Inner.GetRevisionAsync(cancellationToken));

    public Task<KeyValue?> GetAsync(string key, CancellationToken cancellationToken = default) => Timed("get", () => Inner.GetAsync(key, cancellationToken));

    public Task<RangeResult> RangeAsync(string prefix, RangeOptions? options = null, CancellationToken cancellationToken = default) => Timed("range", () => Inner.RangeAsync(prefix, options, cancellationToken));

    public Task<PutResult> PutAsync(string key, ReadOnlyMemory<byte> value, long leaseId = 0, CancellationToken cancellationToken = default) => Timed("put", () => Inner.PutAsync(key, value, leaseId, cancellationToken));

    public Task<DeleteResult> DeleteAsync(string key, CancellationToken cancellationToken = default) => Timed("delete", () => Inner.DeleteAsync(key, cancellationToken));

    public Task<DeleteResult> DeletePrefixAsync(string prefix, CancellationToken cancellationToken = default) => Timed("delete", () => Inner.DeletePrefixAsync(prefix, cancellationToken));

    public Task<TxnResult> TxnAsync(Txn txn, CancellationToken cancellationToken = default) => Timed("txn", () => Inner.TxnAsync(txn, cancellationToken));

    public IAsyncEnumerable<WatchBatch> WatchAsync(string prefix, long fromRevision, CancellationToken cancellationToken = default) => Inner.WatchAsync(prefix, fromRevision, cancellationToken);

    public Task<LeaseGrant> GrantLeaseAsync(TimeSpan ttl, CancellationToken cancellationToken = default) => Timed("lease", () => Inner.GrantLeaseAsync(ttl, cancellationToken));

    public Task<LeaseInfo> KeepAliveOnceAsync(long leaseId, CancellationToken cancellationToken = default) => Timed("lease", () => Inner.KeepAliveOnceAsync(leaseId, cancellationToken));

    public IAsyncEnumerable<LeaseInfo> KeepAliveAsync(long leaseId, TimeSpan interval, CancellationToken cancellationToken = default) => Inner.KeepAliveAsync(leaseId, interval, cancellationToken);

    public Task RevokeLeaseAsync(long leaseId, CancellationToken cancellationToken = default) => Timed("lease", async () =>
    {
        await Inner.RevokeLeaseAsync(leaseId, cancellationToken).ConfigureAwait(false);
        return true;
    });

    public Task<LeaseInfo?> GetLeaseAsync(long leaseId, CancellationToken cancellationToken = default) => Timed("lease", () => Inner.GetLeaseAsync(leaseId, cancellationToken));

    public Task<ILeadership> CampaignAsync(string election, ReadOnlyMemory<byte> value, ElectionOptions? options = null, CancellationToken cancellationToken = default) => Inner.CampaignAsync(election, value, options, cancellationToken);

    public Task<LeaderInfo?> GetLeaderAsync(string election, CancellationToken cancellationToken = default) => Timed("leader", () => Inner.GetLeaderAsync(election, cancellationToken));

    public IAsyncEnumerable<LeaderInfo?> ObserveLeaderAsync(string election, CancellationToken cancellationToken = default) => Inner.ObserveLeaderAsync(election, cancellationToken);

    public Task CompactAsync(long revision, CancellationToken cancellationToken = default) => Timed("compact", async () =>
    {
        await Inner.CompactAsync(revision, cancellationToken).ConfigureAwait(false);
        return true;
    });

    public Task<long> SaveSnapshotAsync(Stream destination, CancellationToken cancellationToken = default) => Inner.SaveSnapshotAsync(destination, cancellationToken);

    public Task RestoreSnapshotAsync(Stream source, CancellationToken cancellationToken = default) => Inner.RestoreSnapshotAsync(source, cancellationToken);

    public Task<StoreStatus> GetStatusAsync(CancellationToken cancellationToken = default) => Timed("status", () => Inner.GetStatusAsync(cancellationToken));

    public ValueTask DisposeAsync() => Inner.DisposeAsync();

    private static async Task<T> Timed<T>(string op, Func<Task<T>> call)
    {
        var tag = new KeyValuePair<string, object?>("op", op);
        var started = Stopwatch.GetTimestamp();
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Instrumentation.StoreErrors.Add(1, tag);
            throw;
        }
        finally
        {
            Instrumentation.StoreRequestDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tag);
        }
    }
}
