using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Google.Protobuf;

namespace Corral.Store.Etcd.Grpc;

/// <summary>
/// A gRPC client connection to one endpoint over <see cref="HttpClient"/> with HTTP/2 only: cleartext h2c for
/// <c>http://</c> addresses, TLS for <c>https://</c>. Thread-safe; calls multiplex over pooled connections. Unary calls,
/// server streams and bidirectional streams; every failure surfaces as <see cref="GrpcException"/> (with
/// <see cref="GrpcException.RequestNotSent"/> telling whether a retry elsewhere is safe for any call) or, when the
/// caller's token was cancelled, <see cref="OperationCanceledException"/>.
/// </summary>
public sealed class GrpcChannel : IDisposable
{
    private const string GrpcContentType = "application/grpc";

    private readonly HttpClient _client;
    private readonly ConcurrentDictionary<string, Uri> _uris = new(StringComparer.Ordinal);

    public GrpcChannel(Uri address, GrpcChannelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.Scheme is not ("http" or "https"))
        {
            throw new ArgumentException($"gRPC address must be http:// or https://; got '{address}'", nameof(address));
        }
        Address = address;
        Options = options ?? GrpcChannelOptions.Default;
        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            ConnectTimeout = Options.ConnectTimeout,
            KeepAlivePingDelay = Options.KeepAlivePingDelay,
            KeepAlivePingTimeout = Options.KeepAlivePingTimeout,
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            AutomaticDecompression = DecompressionMethods.None,
            UseProxy = false,
            UseCookies = false,
        };
        if (address.Scheme == "https")
        {
            ConfigureTls(handler.SslOptions, Options);
        }
        _client = new HttpClient(handler, disposeHandler: true)
        {
            Timeout = Timeout.InfiniteTimeSpan,
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
    }

    /// <summary>The endpoint this channel talks to.</summary>
    public Uri Address { get; }

    /// <summary>The transport settings.</summary>
    public GrpcChannelOptions Options { get; }

    /// <summary>
    /// Sends one request and reads exactly one response message. <paramref name="method"/> is the full path,
    /// e.g. <c>/etcdserverpb.KV/Put</c>.
    /// </summary>
    public async Task<TResponse> UnaryAsync<TResponse>(string method, IMessage request, MessageParser<TResponse> parser, GrpcCallOptions options, CancellationToken cancellationToken)
        where TResponse : class, IMessage<TResponse>
    {
        var content = new FramedContent(GrpcFraming.Frame(request));
        using var message = CreateRequest(method, content, options);
        using var deadline = options.Timeout is { } timeout ? StartDeadline(timeout, cancellationToken) : null;
        var token = deadline?.Token ?? cancellationToken;
        try
        {
            using var response = await _client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, token).ConfigureAwait(false);
            ThrowOnHeaderStatus(response);
            var stream = await response.Content.ReadAsStreamAsync(token).ConfigureAwait(false);
            var header = new byte[GrpcFraming.HeaderSize];
            var result = await GrpcFraming.ReadMessageAsync(stream, parser, header, Options.MaxReceiveMessageBytes, token).ConfigureAwait(false);
            if (result is not null
                && await GrpcFraming.ReadMessageAsync(stream, parser, header, Options.MaxReceiveMessageBytes, token).ConfigureAwait(false) is not null)
            {
                throw new GrpcException(GrpcStatusCode.Internal, $"{method}: more than one response message to a unary call");
            }
            ThrowOnTrailerStatus(response, method);
            return result ?? throw new GrpcException(GrpcStatusCode.Internal, $"{method}: no response message and status OK");
        }
        catch (Exception e) when (e is not GrpcException)
        {
            throw MapFailure(e, method, cancellationToken, deadline, options.Timeout);
        }
    }

    /// <summary>Sends one request and returns the stream of responses (a server-streaming call).</summary>
    public GrpcStreamingCall<TResponse> ServerStreaming<TResponse>(string method, IMessage request, MessageParser<TResponse> parser, GrpcCallOptions options, CancellationToken cancellationToken)
        where TResponse : class, IMessage<TResponse> =>
        StartCall(method, new FramedContent(GrpcFraming.Frame(request)), null, parser, options, cancellationToken);

    /// <summary>
    /// Opens a bidirectional stream: requests are written with <see cref="GrpcStreamingCall{TResponse}.WriteAsync"/>
    /// (in order, no waiting for the server) and responses read with <see cref="GrpcStreamingCall{TResponse}.ReadAsync"/>.
    /// </summary>
    public GrpcStreamingCall<TResponse> Duplex<TResponse>(string method, MessageParser<TResponse> parser, GrpcCallOptions options, CancellationToken cancellationToken)
        where TResponse : class, IMessage<TResponse>
    {
        var writes = System.Threading.Channels.Channel.CreateUnbounded<byte[]>(new() { SingleReader = true, SingleWriter = false });
        return StartCall(method, new ChannelContent(writes.Reader), writes.Writer, parser, options, cancellationToken);
    }

    public void Dispose() => _client.Dispose();

    internal static void ThrowOnHeaderStatus(HttpResponseMessage response)
    {
        if (GrpcStatusReader.Read(response.Headers) is { } status && status.Code != GrpcStatusCode.OK)
        {
            throw new GrpcException(status.Code, status.Message);
        }
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new GrpcException(GrpcStatusReader.FromHttpStatus(response.StatusCode), $"HTTP status {(int)response.StatusCode} without a gRPC status");
        }
    }

    internal static void ThrowOnTrailerStatus(HttpResponseMessage response, string method)
    {
        var status = GrpcStatusReader.Read(response.TrailingHeaders) ?? GrpcStatusReader.Read(response.Headers);
        if (status is null)
        {
            throw new GrpcException(GrpcStatusCode.Internal, $"{method}: response ended without grpc-status");
        }
        if (status.Value.Code != GrpcStatusCode.OK)
        {
            throw new GrpcException(status.Value.Code, status.Value.Message);
        }
    }

    /// <summary>Turns a transport failure or cancellation into the exception a caller sees.</summary>
    internal Exception MapFailure(Exception e, string method, CancellationToken callerToken, CancellationTokenSource? deadline, TimeSpan? timeout)
    {
        if (callerToken.IsCancellationRequested)
        {
            return e as OperationCanceledException ?? new OperationCanceledException(callerToken);
        }
        if (deadline is { IsCancellationRequested: true })
        {
            return new GrpcException(GrpcStatusCode.DeadlineExceeded, $"{method}: deadline of {timeout?.TotalMilliseconds} ms exceeded", inner: e);
        }
        return e switch
        {
            HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError } h =>
                new GrpcException(GrpcStatusCode.Unavailable, $"{Address}: cannot connect: {Describe(h)}", requestNotSent: true, e),
            HttpProtocolException { ErrorCode: 0x7 } =>
                new GrpcException(GrpcStatusCode.Unavailable, $"{Address}: stream refused by the server", requestNotSent: true, e),
            HttpProtocolException { ErrorCode: 0x8 } =>
                new GrpcException(GrpcStatusCode.Cancelled, $"{Address}: stream cancelled by the server", inner: e),
            InvalidProtocolBufferException =>
                new GrpcException(GrpcStatusCode.Internal, $"{method}: unparsable response message: {e.Message}", inner: e),
            HttpRequestException or IOException or ObjectDisposedException =>
                new GrpcException(GrpcStatusCode.Unavailable, $"{Address}: {Describe(e)}", inner: e),
            OperationCanceledException { InnerException: TimeoutException } =>
                new GrpcException(GrpcStatusCode.Unavailable, $"{Address}: connection attempt timed out", requestNotSent: true, e),
            OperationCanceledException =>
                new GrpcException(GrpcStatusCode.Cancelled, $"{Address}: {method} was cancelled", inner: e),
            _ => e,
        };
    }

    private static string Describe(Exception e)
    {
        var text = e.Message;
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException or IOException or System.Security.Authentication.AuthenticationException)
            {
                text += " (" + inner.Message + ")";
            }
        }
        return text;
    }

    private GrpcStreamingCall<TResponse> StartCall<TResponse>(string method, HttpContent content, System.Threading.Channels.ChannelWriter<byte[]>? writer, MessageParser<TResponse> parser, GrpcCallOptions options, CancellationToken cancellationToken)
        where TResponse : class, IMessage<TResponse>
    {
        var message = CreateRequest(method, content, options);
        var lifetime = options.Timeout is { } timeout ? StartDeadline(timeout, cancellationToken) : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var responseTask = _client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, lifetime.Token);
        return new GrpcStreamingCall<TResponse>(this, method, message, responseTask, writer, parser, lifetime, options.Timeout, cancellationToken);
    }

    private HttpRequestMessage CreateRequest(string method, HttpContent content, GrpcCallOptions options)
    {
        if (!_uris.TryGetValue(method, out var uri))
        {
            uri = new Uri(Address, method);
            _uris.TryAdd(method, uri);
        }
        content.Headers.TryAddWithoutValidation("content-type", GrpcContentType);
        var message = new HttpRequestMessage(HttpMethod.Post, uri)
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = content,
        };
        var headers = message.Headers;
        headers.TryAddWithoutValidation("te", "trailers");
        if (options.Timeout is { } timeout)
        {
            headers.TryAddWithoutValidation("grpc-timeout", GrpcStatusReader.FormatTimeout(timeout));
        }
        if (options.Metadata is { } metadata)
        {
            for (var i = 0; i < metadata.Count; i++)
            {
                headers.TryAddWithoutValidation(metadata[i].Key, metadata[i].Value);
            }
        }
        return message;
    }

    private static CancellationTokenSource StartDeadline(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        return cts;
    }

    private static void ConfigureTls(SslClientAuthenticationOptions ssl, GrpcChannelOptions options)
    {
        ssl.ApplicationProtocols = [SslApplicationProtocol.Http2];
        if (options.ClientCertificate is { } certificate)
        {
            ssl.ClientCertificates = [certificate];
        }
        if (options.TrustedRoots is { } roots)
        {
            ssl.RemoteCertificateValidationCallback = (_, presented, _, errors) =>
            {
                if (presented is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
                {
                    return false;
                }
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.AddRange(roots);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                using var leaf = new X509Certificate2(presented);
                return chain.Build(leaf);
            };
        }
    }

    /// <summary>Request content of exactly one pre-framed message.</summary>
    private sealed class FramedContent(byte[] frame) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            stream.WriteAsync(frame, 0, frame.Length);

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
            stream.WriteAsync(frame, cancellationToken).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = frame.Length;
            return true;
        }
    }
}
