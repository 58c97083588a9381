using Corral.Store.Etcd.Api;
using Corral.Store.Etcd.Grpc;

namespace Corral.Store.Etcd;

/// <summary>
/// One long-lived LeaseKeepAlive stream shared by every keep-alive of an <see cref="EtcdStore"/>. etcd answers each
/// request on the stream, in order, with the lease id, so pending requests are matched by id, first in first out.
/// When the stream fails every pending request fails with the stream's error and the next request opens a new stream
/// on the store's current endpoint.
/// </summary>
internal sealed class LeaseKeepAliveStream(EtcdStore store) : IAsyncDisposable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<long, Queue<TaskCompletionSource<LeaseKeepAliveResponse>>> _pending = [];
    private GrpcStreamingCall<LeaseKeepAliveResponse>? _call;
    private int _endpoint;
    private bool _disposed;

    /// <summary>Sends one keep-alive for <paramref name="leaseId"/> and waits (up to the request timeout) for its answer.</summary>
    /// <returns>The answer, and the endpoint index the stream was on (for failover).</returns>
    public async Task<(LeaseKeepAliveResponse Response, int Endpoint)> KeepAliveOnceAsync(long leaseId, CancellationToken cancellationToken)
    {
        var options = await store.StreamOptionsAsync(cancellationToken).ConfigureAwait(false);
        var answer = new TaskCompletionSource<LeaseKeepAliveResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        GrpcStreamingCall<LeaseKeepAliveResponse> call;
        int endpoint;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_call is null)
            {
                var (channel, index) = store.CurrentChannel();
                _call = channel.Duplex(EtcdMethods.LeaseKeepAlive, LeaseKeepAliveResponse.Parser, options, store.Disposing);
                _endpoint = index;
                _ = ReadLoopAsync(_call, index);
            }
            call = _call;
            endpoint = _endpoint;
            if (!_pending.TryGetValue(leaseId, out var queue))
            {
                queue = new Queue<TaskCompletionSource<LeaseKeepAliveResponse>>();
                _pending[leaseId] = queue;
            }
            queue.Enqueue(answer);
            call.Write(new LeaseKeepAliveRequest { ID = leaseId });
        }
        try
        {
            return (await answer.Task.WaitAsync(store.Options.RequestTimeout, store.Time, cancellationToken).ConfigureAwait(false), endpoint);
        }
        catch (TimeoutException e)
        {
            // No answer in time: this stream is presumed dead; the next keep-alive opens a fresh one on another member.
            var error = new GrpcException(GrpcStatusCode.DeadlineExceeded, $"lease {leaseId}: no keep-alive answer within {store.Options.RequestTimeout.TotalSeconds} s", inner: e);
            Fail(call, error);
            await call.DisposeAsync().ConfigureAwait(false);
            store.FailOver(endpoint, error);
            throw error;
        }
        catch (GrpcException e) when (EtcdStore.IsTransient(e))
        {
            store.FailOver(endpoint, e);
            throw;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && !store.Disposing.IsCancellationRequested)
        {
            // The caller gave up waiting. etcd answers a stream's requests one at a time, so a request stuck on the
            // member (a renewal it forwards to a leader that is gone waits there for its whole request timeout)
            // holds every later one: the next keep-alive opens a fresh stream instead of queueing behind it. The
            // answer to an abandoned request is never given to a later one: that would date a renewal after it was
            // made.
            Fail(call, new GrpcException(GrpcStatusCode.Cancelled, $"lease {leaseId}: a keep-alive on this stream was abandoned by its caller"));
            await call.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        GrpcStreamingCall<LeaseKeepAliveResponse>? call;
        lock (_lock)
        {
            _disposed = true;
            call = _call;
            _call = null;
        }
        if (call is not null)
        {
            Fail(call, new GrpcException(GrpcStatusCode.Cancelled, "the store was disposed"));
            await call.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task ReadLoopAsync(GrpcStreamingCall<LeaseKeepAliveResponse> call, int endpoint)
    {
        GrpcException error;
        try
        {
            while (await call.ReadAsync(store.Disposing).ConfigureAwait(false) is { } response)
            {
                lock (_lock)
                {
                    if (_pending.TryGetValue(response.ID, out var queue) && queue.TryDequeue(out var answer))
                    {
                        answer.TrySetResult(response);
                        if (queue.Count == 0)
                        {
                            _pending.Remove(response.ID);
                        }
                    }
                }
            }
            error = new GrpcException(GrpcStatusCode.Unavailable, "the keep-alive stream ended");
        }
        catch (GrpcException e)
        {
            error = e;
        }
        catch (OperationCanceledException e)
        {
            error = new GrpcException(GrpcStatusCode.Cancelled, "the store was disposed", inner: e);
        }
        EtcdStoreLog.KeepAliveStreamEnded(store.Logger, store.Endpoints[endpoint], error.StatusMessage);
        Fail(call, error);
        await call.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Detaches <paramref name="call"/> (if still current) and fails every request waiting on it.</summary>
    private void Fail(GrpcStreamingCall<LeaseKeepAliveResponse> call, GrpcException error)
    {
        List<TaskCompletionSource<LeaseKeepAliveResponse>> waiting = [];
        lock (_lock)
        {
            if (!ReferenceEquals(_call, call))
            {
                return;
            }
            _call = null;
            foreach (var queue in _pending.Values)
            {
                waiting.AddRange(queue);
            }
            _pending.Clear();
        }
        foreach (var answer in waiting)
        {
            answer.TrySetException(error);
        }
    }
}
