using Corral.Store.Etcd.Api;
using Corral.Store.Etcd.Grpc;

namespace Corral.Store.Etcd;

public sealed partial class EtcdStore
{
    /// <summary>
    /// The store exception for an etcd error: lease not found, compacted revision (with the compaction revision etcd
    /// reports), future revision, unavailability, or a <see cref="StoreException"/> carrying etcd's status and message.
    /// </summary>
    private async Task<Exception> MapErrorAsync(GrpcException e, string what, long leaseId, long revision, CancellationToken cancellationToken)
    {
        var message = e.StatusMessage;
        if (message.Contains("requested lease not found", StringComparison.Ordinal))
        {
            return new LeaseNotFoundException(leaseId);
        }
        if (message.Contains("required revision has been compacted", StringComparison.Ordinal))
        {
            var compacted = await CompactedRevisionAsync(cancellationToken).ConfigureAwait(false);
            return new StoreCompactedException(revision, Math.Max(compacted, revision));
        }
        if (message.Contains("required revision is a future revision", StringComparison.Ordinal))
        {
            return new StoreException($"etcd {what}: revision {revision} is above the current revision", e);
        }
        if (IsTransient(e))
        {
            return new StoreUnavailableException($"etcd {what} failed: {message} (endpoints: {string.Join(", ", _endpoints.Urls)})", e);
        }
        return new StoreException($"etcd {what} failed: {e.StatusCode}: {message}", e);
    }

    /// <summary>Throws when <paramref name="revision"/> is at or below a compaction this store knows of.</summary>
    private void ThrowIfCompacted(long revision)
    {
        var floor = Volatile.Read(ref _compactedFloor);
        if (revision > 0 && revision <= floor)
        {
            throw new StoreCompactedException(revision, floor);
        }
    }

    private void RaiseCompactedFloor(long revision)
    {
        var seen = Volatile.Read(ref _compactedFloor);
        while (revision > seen)
        {
            var was = Interlocked.CompareExchange(ref _compactedFloor, revision, seen);
            if (was == seen)
            {
                return;
            }
            seen = was;
        }
    }

    /// <summary>
    /// etcd's compaction revision, as Maintenance.HashKV reports it (0 when never compacted), combined with the highest
    /// compaction this store knows of. Falls back to the latter when no member answers.
    /// </summary>
    internal async Task<long> CompactedRevisionAsync(CancellationToken cancellationToken)
    {
        try
        {
            var response = await CallAsync(EtcdMethods.HashKV, new HashKVRequest(), HashKVResponse.Parser, idempotent: true, cancellationToken).ConfigureAwait(false);
            RaiseCompactedFloor(response.CompactRevision);
        }
        catch (Exception e) when (e is GrpcException or StoreUnavailableException)
        {
            // Unknown: report what this store knows.
        }
        return Volatile.Read(ref _compactedFloor);
    }
}
