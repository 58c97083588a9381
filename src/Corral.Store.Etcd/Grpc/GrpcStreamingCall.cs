using System.Threading.Channels;
using Google.Protobuf;

namespace Corral.Store.Etcd.Grpc;

/// <summary>
/// A server-streaming or bidirectional call in progress. Writes (bidirectional only) may come from any thread and
/// are sent in order; reads must come from one reader at a time. Dispose to end the call (the stream is reset when
/// it has not ended by itself).
/// </summary>
public sealed class GrpcStreamingCall<TResponse> : IAsyncDisposable
    where TResponse : class, IMessage<TResponse>
{
    private readonly GrpcChannel _channel;
    private readonly string _method;
    private readonly HttpRequestMessage _request;
    private readonly Task<HttpResponseMessage> _responseTask;
    private readonly ChannelWriter<byte[]>? _writer;
    private readonly MessageParser<TResponse> _parser;
    private readonly CancellationTokenSource _lifetime;
    private readonly TimeSpan? _timeout;
    private readonly CancellationToken _callerToken;
    private readonly byte[] _header = new byte[GrpcFraming.HeaderSize];
    private HttpResponseMessage? _response;
    private Stream? _stream;
    private bool _ended;
    private int _disposed;

    internal GrpcStreamingCall(
        GrpcChannel channel,
        string method,
        HttpRequestMessage request,
        Task<HttpResponseMessage> responseTask,
        ChannelWriter<byte[]>? writer,
        MessageParser<TResponse> parser,
        CancellationTokenSource lifetime,
        TimeSpan? timeout,
        CancellationToken callerToken)
    {
        _channel = channel;
        _method = method;
        _request = request;
        _responseTask = responseTask;
        _writer = writer;
        _parser = parser;
        _lifetime = lifetime;
        _timeout = timeout;
        _callerToken = callerToken;
    }

    /// <summary>Queues one request message to be sent (bidirectional calls only). Throws once the call is over.</summary>
    public void Write(IMessage request)
    {
        var writer = _writer ?? throw new InvalidOperationException($"{_method} is not a bidirectional call");
        if (!writer.TryWrite(GrpcFraming.Frame(request)))
        {
            throw new GrpcException(GrpcStatusCode.Cancelled, $"{_method}: the call is over; no more requests can be sent");
        }
    }

    /// <summary>Queues one request message (see <see cref="Write"/>).</summary>
    public ValueTask WriteAsync(IMessage request, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Write(request);
        return ValueTask.CompletedTask;
    }

    /// <summary>Ends the request stream (half-close); responses may still be read.</summary>
    public void CompleteRequests() => _writer?.TryComplete();

    /// <summary>
    /// The next response message, or null when the server ended the stream with status OK. A non-OK status throws
    /// <see cref="GrpcException"/>.
    /// </summary>
    public async ValueTask<TResponse?> ReadAsync(CancellationToken cancellationToken = default)
    {
        if (_ended)
        {
            return null;
        }
        try
        {
            if (_stream is null)
            {
                _response = await _responseTask.WaitAsync(cancellationToken).ConfigureAwait(false);
                GrpcChannel.ThrowOnHeaderStatus(_response);
                _stream = await _response.Content.ReadAsStreamAsync(_lifetime.Token).ConfigureAwait(false);
            }
            var message = await GrpcFraming.ReadMessageAsync(_stream, _parser, _header, _channel.Options.MaxReceiveMessageBytes, cancellationToken).ConfigureAwait(false);
            if (message is null)
            {
                _ended = true;
                GrpcChannel.ThrowOnTrailerStatus(_response!, _method);
            }
            return message;
        }
        catch (Exception e) when (e is not GrpcException)
        {
            _ended = true;
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            throw _channel.MapFailure(e, _method, _callerToken, _lifetime, _timeout);
        }
        catch (GrpcException)
        {
            _ended = true;
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        _writer?.TryComplete();
        await _lifetime.CancelAsync().ConfigureAwait(false);
        try
        {
            (await _responseTask.ConfigureAwait(false)).Dispose();
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
        {
            // The call failed or was cancelled: nothing left to release.
        }
        _request.Dispose();
        _lifetime.Dispose();
    }
}
