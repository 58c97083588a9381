using System.Runtime.CompilerServices;
using Corral.Store.Etcd.Api;
using Corral.Store.Etcd.Grpc;

namespace Corral.Store.Etcd;

public sealed partial class EtcdStore
{
    /// <inheritdoc />
    public async Task<LeaseGrant> GrantLeaseAsync(TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        var seconds = StoreLimits.ValidateTtl(ttl);
        try
        {
            var response = await CallAsync(EtcdMethods.LeaseGrant, new LeaseGrantRequest { TTL = seconds }, LeaseGrantResponse.Parser, idempotent: false, cancellationToken).ConfigureAwait(false);
            if (response.Error.Length > 0)
            {
                throw new StoreException($"etcd LeaseGrant failed: {response.Error}");
            }
            return new LeaseGrant(response.ID, TimeSpan.FromSeconds(response.TTL));
        }
        catch (GrpcException e)
        {
            throw await MapErrorAsync(e, "LeaseGrant", 0, 0, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async Task<LeaseInfo> KeepAliveOnceAsync(long leaseId, CancellationToken cancellationToken = default)
    {
        ValidateLeaseToUse(leaseId);
        var started = _time.GetTimestamp();
        var failures = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                var (response, _) = await _keepAlives.KeepAliveOnceAsync(leaseId, cancellationToken).ConfigureAwait(false);
                if (response.TTL <= 0)
                {
                    throw new LeaseNotFoundException(leaseId);
                }
                var ttl = TimeSpan.FromSeconds(response.TTL);
                return new LeaseInfo(leaseId, ttl, ttl, []);
            }
            catch (GrpcException e) when (IsTransient(e) || e.StatusCode == GrpcStatusCode.Cancelled && !Disposing.IsCancellationRequested)
            {
                failures++;
                if (_time.GetElapsedTime(started) >= _options.RetryTimeout)
                {
                    throw Unavailable($"LeaseKeepAlive of lease {leaseId}", e, failures);
                }
                if (failures % EndpointCount == 0)
                {
                    await Task.Delay(Backoff(failures / EndpointCount), _time, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (GrpcException e)
            {
                throw await MapErrorAsync(e, "LeaseKeepAlive", leaseId, 0, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<LeaseInfo> KeepAliveAsync(long leaseId, TimeSpan interval, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ValidateLeaseToUse(leaseId);
        if (interval <= TimeSpan.Zero)
        {
            throw new ArgumentException($"keep-alive interval must be positive; got {interval}", nameof(interval));
        }
        while (true)
        {
            var sent = _time.GetTimestamp();
            yield return await KeepAliveOnceAsync(leaseId, cancellationToken).ConfigureAwait(false);
            var wait = interval - _time.GetElapsedTime(sent);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <inheritdoc />
    public async Task RevokeLeaseAsync(long leaseId, CancellationToken cancellationToken = default)
    {
        ValidateLeaseToUse(leaseId);
        try
        {
            await CallAsync(EtcdMethods.LeaseRevoke, new LeaseRevokeRequest { ID = leaseId }, LeaseRevokeResponse.Parser, idempotent: false, cancellationToken).ConfigureAwait(false);
        }
        catch (GrpcException e)
        {
            throw await MapErrorAsync(e, "LeaseRevoke", leaseId, 0, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async Task<LeaseInfo?> GetLeaseAsync(long leaseId, CancellationToken cancellationToken = default)
    {
        ValidateLeaseToUse(leaseId);
        try
        {
            var response = await CallAsync(EtcdMethods.LeaseTimeToLive, new LeaseTimeToLiveRequest { ID = leaseId, Keys = true }, LeaseTimeToLiveResponse.Parser, idempotent: true, cancellationToken).ConfigureAwait(false);
            if (response.TTL < 0)
            {
                return null;
            }
            var keys = new string[response.Keys.Count];
            for (var i = 0; i < keys.Length; i++)
            {
                keys[i] = response.Keys[i].ToStringUtf8();
            }
            return new LeaseInfo(leaseId, TimeSpan.FromSeconds(response.TTL), TimeSpan.FromSeconds(response.GrantedTTL), keys);
        }
        catch (GrpcException e) when (e.StatusMessage.Contains("requested lease not found", StringComparison.Ordinal))
        {
            return null;
        }
        catch (GrpcException e)
        {
            throw await MapErrorAsync(e, "LeaseTimeToLive", leaseId, 0, cancellationToken).ConfigureAwait(false);
        }
    }

    private static void ValidateLeaseToUse(long leaseId)
    {
        StoreLimits.ValidateLeaseId(leaseId);
        if (leaseId == 0)
        {
            throw new ArgumentException("lease id must not be 0 (0 means no lease)", nameof(leaseId));
        }
    }
}
