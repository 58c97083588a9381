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

    /// <summary>
    /// How long a keep-alive may go unanswered on the shared stream before it is also sent to every member on fresh
    /// streams (and again each time this passes): 200 ms.
    /// </summary>
    internal static readonly TimeSpan KeepAliveHedgeAfter = TimeSpan.FromMilliseconds(200);

    /// <inheritdoc />
    /// <remarks>
    /// Hedged: a member forwards a renewal to the raft leader it knows, and when that leader has just vanished without
    /// a reset (cut off, frozen) the forwarded renewal hangs there for etcd's whole request timeout, even after the
    /// others elected a new leader. So a keep-alive not answered within <see cref="KeepAliveHedgeAfter"/> is sent again
    /// to every member, each on a fresh stream, every <see cref="KeepAliveHedgeAfter"/> until one answers: a renewal
    /// sent once the new leader is known gets through. Renewing a lease twice is harmless; the caller dates the renewal
    /// by its own first send, the earliest.
    /// </remarks>
    public async Task<LeaseInfo> KeepAliveOnceAsync(long leaseId, CancellationToken cancellationToken = default)
    {
        ValidateLeaseToUse(leaseId);
        using var done = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var sharedEndpoint = Volatile.Read(ref _current);
        var shared = KeepAliveOnSharedStreamAsync(leaseId, done.Token);
        var hedges = new List<Task<LeaseInfo>>();
        var hedgeEndpoints = new Dictionary<Task<LeaseInfo>, int>();
        try
        {
            while (true)
            {
                var wait = Task.Delay(KeepAliveHedgeAfter, _time, done.Token);
                var first = await Task.WhenAny([shared, .. hedges, wait]).ConfigureAwait(false);
                if (first == wait)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var endpoints = _endpoints;
                    for (var i = 0; i < endpoints.Channels.Length; i++)
                    {
                        var hedge = HedgeKeepAliveAsync(endpoints.Channels[i], leaseId, done.Token);
                        hedges.Add(hedge);
                        hedgeEndpoints[hedge] = i;
                    }
                    continue;
                }
                var finished = (Task<LeaseInfo>)first;
                if (finished.IsCompletedSuccessfully)
                {
                    if (finished != shared && !shared.IsCompleted && hedgeEndpoints[finished] != sharedEndpoint)
                    {
                        // Another member answered while the preferred one did not: calls move on from it, as after a failure.
                        FailOver(sharedEndpoint, new GrpcException(GrpcStatusCode.DeadlineExceeded, $"lease {leaseId}: no keep-alive answer within {KeepAliveHedgeAfter.TotalMilliseconds:0} ms while {EndpointAt(hedgeEndpoints[finished])} answered"));
                    }
                    return await finished.ConfigureAwait(false);
                }
                if (finished == shared || finished.Exception?.InnerException is LeaseNotFoundException)
                {
                    // The shared stream's answer (after its own retries and failovers), or a member saying the lease
                    // is gone, is final.
                    return await finished.ConfigureAwait(false);
                }
                hedges.Remove(finished);
            }
        }
        finally
        {
            await done.CancelAsync().ConfigureAwait(false);
            foreach (Task attempt in hedges.Append(shared))
            {
                await attempt.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>One keep-alive on a fresh stream to <paramref name="channel"/>'s member; any failure just ends it.</summary>
    private async Task<LeaseInfo> HedgeKeepAliveAsync(Grpc.GrpcChannel channel, long leaseId, CancellationToken cancellationToken)
    {
        var options = await StreamOptionsAsync(cancellationToken).ConfigureAwait(false);
        var call = channel.Duplex(EtcdMethods.LeaseKeepAlive, LeaseKeepAliveResponse.Parser, options, cancellationToken);
        await using (call.ConfigureAwait(false))
        {
            call.Write(new LeaseKeepAliveRequest { ID = leaseId });
            var response = await call.ReadAsync(cancellationToken).ConfigureAwait(false)
                ?? throw new GrpcException(GrpcStatusCode.Unavailable, "the keep-alive stream ended without an answer");
            if (response.TTL <= 0)
            {
                throw new LeaseNotFoundException(leaseId);
            }
            var ttl = TimeSpan.FromSeconds(response.TTL);
            return new LeaseInfo(leaseId, ttl, ttl, []);
        }
    }

    private async Task<LeaseInfo> KeepAliveOnSharedStreamAsync(long leaseId, CancellationToken cancellationToken)
    {
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
