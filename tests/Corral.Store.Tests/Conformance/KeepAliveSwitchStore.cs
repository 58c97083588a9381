using System.Runtime.CompilerServices;

namespace Corral.Store.Tests.Conformance;

/// <summary>
/// Forwards every call to an inner store, except that <see cref="KeepAliveOnceAsync"/> can be made to fail (as if the
/// store stopped acknowledging renewals from this client) while everything else keeps working, and the answer to a
/// lease grant can be made late (as from a lagging member). Does not own the inner store.
/// </summary>
public sealed class KeepAliveSwitchStore(IClusterStore inner) : IClusterStore
{
    private volatile bool _failKeepAlives;

    /// <summary>When true, every keep-alive throws <see cref="StoreUnavailableException"/> without reaching the store.</summary>
    public bool FailKeepAlives
    {
        get => _failKeepAlives;
        set => _failKeepAlives = value;
    }

    /// <summary>How long the answer to <see cref="GrantLeaseAsync"/> takes to come back after the store granted the lease.</summary>
    public TimeSpan GrantAnswerDelay { get; set; }

    /// <summary>When true, watches never deliver anything (as for a client cut off from the store).</summary>
    public bool SilentWatches { get; set; }

    public string Kind => inner.Kind;

    public Task<LeaseInfo> KeepAliveOnceAsync(long leaseId, CancellationToken cancellationToken = default) =>
        _failKeepAlives
            ? Task.FromException<LeaseInfo>(new StoreUnavailableException($"test: keep-alive of lease {leaseId} not acknowledged"))
            : inner.KeepAliveOnceAsync(leaseId, cancellationToken);

    public async IAsyncEnumerable<LeaseInfo> KeepAliveAsync(long leaseId, TimeSpan interval, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (true)
        {
            yield return await KeepAliveOnceAsync(leaseId, cancellationToken).ConfigureAwait(false);
            await Task.Delay(interval, cancellationToken).ConfigureAwait(false);
        }
    }

    public Task<long> GetRevisionAsync(CancellationToken cancellationToken = default) => inner.GetRevisionAsync(cancellationToken);

    public Task<KeyValue?> GetAsync(string key, CancellationToken cancellationToken = default) => inner.GetAsync(key, cancellationToken);

    public Task<RangeResult> RangeAsync(string prefix, RangeOptions? options = null, CancellationToken cancellationToken = default) => inner.RangeAsync(prefix, options, cancellationToken);

    public Task<PutResult> PutAsync(string key, ReadOnlyMemory<byte> value, long leaseId = 0, CancellationToken cancellationToken = default) => inner.PutAsync(key, value, leaseId, cancellationToken);

    public Task<DeleteResult> DeleteAsync(string key, CancellationToken cancellationToken = default) => inner.DeleteAsync(key, cancellationToken);

    public Task<DeleteResult> DeletePrefixAsync(string prefix, CancellationToken cancellationToken = default) => inner.DeletePrefixAsync(prefix, cancellationToken);

    public Task<TxnResult> TxnAsync(Txn txn, CancellationToken cancellationToken = default) => inner.TxnAsync(txn, cancellationToken);

    public IAsyncEnumerable<WatchBatch> WatchAsync(string prefix, long fromRevision, CancellationToken cancellationToken = default) =>
        SilentWatches ? SilentAsync(cancellationToken) : inner.WatchAsync(prefix, fromRevision, cancellationToken);

    private static async IAsyncEnumerable<WatchBatch> SilentAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        yield break;
    }

    public async Task<LeaseGrant> GrantLeaseAsync(TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        var grant = await inner.GrantLeaseAsync(ttl, cancellationToken).ConfigureAwait(false);
        await Task.Delay(GrantAnswerDelay, cancellationToken).ConfigureAwait(false);
        return grant;
    }

    public Task RevokeLeaseAsync(long leaseId, CancellationToken cancellationToken = default) => inner.RevokeLeaseAsync(leaseId, cancellationToken);

    public Task<LeaseInfo?> GetLeaseAsync(long leaseId, CancellationToken cancellationToken = default) => inner.GetLeaseAsync(leaseId, cancellationToken);

    public Task<ILeadership> CampaignAsync(string election, ReadOnlyMemory<byte> value, ElectionOptions? options = null, CancellationToken cancellationToken = default) =>
        new StoreElection(this, TimeProvider.System).CampaignAsync(election, value, options, cancellationToken);

    public Task<LeaderInfo?> GetLeaderAsync(string election, CancellationToken cancellationToken = default) => inner.GetLeaderAsync(election, cancellationToken);

    public IAsyncEnumerable<LeaderInfo?> ObserveLeaderAsync(string election, CancellationToken cancellationToken = default) => inner.ObserveLeaderAsync(election, cancellationToken);

    public Task CompactAsync(long revision, CancellationToken cancellationToken = default) => inner.CompactAsync(revision, cancellationToken);

    public Task<long> SaveSnapshotAsync(Stream destination, CancellationToken cancellationToken = default) => inner.SaveSnapshotAsync(destination, cancellationToken);

    public Task RestoreSnapshotAsync(Stream source, CancellationToken cancellationToken = default) => inner.RestoreSnapshotAsync(source, cancellationToken);

    public Task<StoreStatus> GetStatusAsync(CancellationToken cancellationToken = default) => inner.GetStatusAsync(cancellationToken);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
