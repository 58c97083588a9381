using Corral.Store.Etcd.Api;
using Corral.Store.Etcd.Grpc;
using Google.Protobuf;

namespace Corral.Store.Etcd;

/// <summary>
/// One watch of one prefix over a bidirectional Watch stream, re-created on another member when the stream fails,
/// always from the revision after the last one delivered. Not thread-safe: one consumer pulls batches.
/// </summary>
internal sealed class EtcdWatchSession(EtcdStore store, string prefix, long fromRevision) : IAsyncDisposable
{
    private readonly ByteString _key = EtcdConvert.Prefix(prefix).Key;
    private readonly ByteString _rangeEnd = EtcdConvert.Prefix(prefix).RangeEnd;
    private GrpcStreamingCall<WatchResponse>? _call;
    private int _endpoint;
    private long _next = fromRevision;
    private long _failingSince;
    private int _failures;
    private bool _resumed;

    /// <summary>
    /// The batches of the next etcd response that carries events (one per revision, in order). Waits as long as it
    /// takes; fails over on stream failures; throws <see cref="StoreCompactedException"/>, <see cref="StoreException"/>
    /// or, after <see cref="EtcdStoreOptions.RetryTimeout"/> without a working stream, <see cref="StoreUnavailableException"/>.
    /// </summary>
    public async ValueTask<List<WatchBatch>> NextAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            WatchResponse? response;
            try
            {
                _call ??= await OpenAsync(cancellationToken).ConfigureAwait(false);
                response = await _call.ReadAsync(cancellationToken).ConfigureAwait(false);
                if (response is null)
                {
                    throw new GrpcException(GrpcStatusCode.Unavailable, "the watch stream ended");
                }
            }
            catch (GrpcException e) when (EtcdStore.IsTransient(e) || e.StatusCode == GrpcStatusCode.Cancelled && !store.Disposing.IsCancellationRequested)
            {
                await FailAsync(e, cancellationToken).ConfigureAwait(false);
                continue;
            }
            catch (GrpcException e)
            {
                throw new StoreException($"etcd watch of '{prefix}' failed: {e.StatusCode}: {e.StatusMessage}", e);
            }
            if (response.CompactRevision > 0)
            {
                throw new StoreCompactedException(_next, response.CompactRevision);
            }
            if (response.Canceled)
            {
                var reason = response.CancelReason;
                if (reason.Contains("no leader", StringComparison.Ordinal))
                {
                    await FailAsync(new GrpcException(GrpcStatusCode.Unavailable, reason), cancellationToken).ConfigureAwait(false);
                    continue;
                }
                throw new StoreException($"etcd cancelled the watch of '{prefix}': {reason}");
            }
            if (response.Events.Count == 0)
            {
                continue;
            }
            var batches = Split(response);
            if (batches.Count > 0)
            {
                return batches;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_call is not null)
        {
            await _call.DisposeAsync().ConfigureAwait(false);
            _call = null;
        }
    }

    /// <summary>Opens a stream on the store's current endpoint and waits for etcd to confirm the watch.</summary>
    private async Task<GrpcStreamingCall<WatchResponse>> OpenAsync(CancellationToken cancellationToken)
    {
        var options = await store.StreamOptionsAsync(cancellationToken).ConfigureAwait(false);
        var (channel, index) = store.CurrentChannel();
        _endpoint = index;
        var call = channel.Duplex(EtcdMethods.Watch, WatchResponse.Parser, options, store.Disposing);
        try
        {
            call.Write(new WatchRequest
            {
                CreateRequest = new WatchCreateRequest { Key = _key, RangeEnd = _rangeEnd, StartRevision = _next, PrevKv = true },
            });
            var created = await call.ReadAsync(cancellationToken).ConfigureAwait(false)
                ?? throw new GrpcException(GrpcStatusCode.Unavailable, "the watch stream ended before the watch was created");
            if (created.Canceled && created.CompactRevision == 0)
            {
                throw new StoreException($"etcd refused the watch of '{prefix}': {created.CancelReason}");
            }
            if (created.CompactRevision > 0)
            {
                throw new StoreCompactedException(_next, created.CompactRevision);
            }
            if (_next == 0)
            {
                // "From the next write": pin it now, so a resume after failover starts exactly there.
                _next = created.Header.Revision + 1;
            }
            _failures = 0;
            if (_resumed)
            {
                EtcdStoreLog.WatchResumed(store.Logger, prefix, _next, store.Endpoints[index]);
            }
            return call;
        }
        catch
        {
            await call.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task FailAsync(GrpcException error, CancellationToken cancellationToken)
    {
        if (_call is not null)
        {
            await _call.DisposeAsync().ConfigureAwait(false);
            _call = null;
        }
        _resumed = true;
        if (_failures == 0)
        {
            _failingSince = store.Time.GetTimestamp();
        }
        _failures++;
        if (store.Time.GetElapsedTime(_failingSince) >= store.Options.RetryTimeout)
        {
            throw store.Unavailable($"Watch of '{prefix}'", error, _failures);
        }
        store.FailOver(_endpoint, error);
        var endpoints = store.Endpoints.Count;
        if (_failures % endpoints == 0)
        {
            await Task.Delay(store.Backoff(_failures / endpoints), store.Time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Groups the response's events by revision, dropping any revision already delivered.</summary>
    private List<WatchBatch> Split(WatchResponse response)
    {
        var batches = new List<WatchBatch>(1);
        List<WatchEvent>? events = null;
        var revision = 0L;
        foreach (var e in response.Events)
        {
            var eventRevision = e.Kv.ModRevision;
            if (eventRevision < _next)
            {
                continue;
            }
            if (eventRevision != revision)
            {
                if (events is not null)
                {
                    batches.Add(new WatchBatch(revision, events));
                }
                events = new List<WatchEvent>(1);
                revision = eventRevision;
            }
            events!.Add(new WatchEvent(
                e.Type == Event.Types.EventType.Delete ? WatchEventType.Delete : WatchEventType.Put,
                EtcdConvert.ToKeyValue(e.Kv),
                EtcdConvert.ToKeyValueOrNull(e.PrevKv)));
        }
        if (events is not null)
        {
            batches.Add(new WatchBatch(revision, events));
            _next = revision + 1;
        }
        return batches;
    }
}
