using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;

namespace Corral.Bench.RawEtcd;

/// <summary>
/// The reference for etcd throughput: a bare gRPC unary <c>etcdserverpb.KV/Put</c> over <see cref="HttpClient"/> HTTP/2
/// (h2c), with the request hand-encoded and no Corral code in the path. Used only by the benchmark.
/// </summary>
internal sealed class RawEtcdPutClient : IDisposable
{
    private static readonly MediaTypeHeaderValue GrpcContentType = new("application/grpc");

    private readonly HttpClient _http;
    private readonly Uri _putUri;

    public RawEtcdPutClient(string endpoint)
    {
        _http = new HttpClient(new SocketsHttpHandler { EnableMultipleHttp2Connections = false })
        {
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = TimeSpan.FromSeconds(10),
        };
        _putUri = new Uri(endpoint.TrimEnd('/') + "/etcdserverpb.KV/Put");
    }

    /// <summary>Puts one key; throws when the HTTP status or the grpc-status trailer is not OK.</summary>
    public async Task PutAsync(byte[] key, byte[] value, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _putUri)
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(Frame(key, value)),
        };
        request.Content.Headers.ContentType = GrpcContentType;
        request.Headers.TryAddWithoutValidation("TE", "trailers");
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new HttpRequestException($"etcd Put: HTTP {(int)response.StatusCode}");
        }
        // The body is one framed PutResponse; read it to the end so the trailers arrive.
        await response.Content.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
        var status = Header(response.TrailingHeaders, "grpc-status") ?? Header(response.Headers, "grpc-status");
        if (status != "0")
        {
            var message = Header(response.TrailingHeaders, "grpc-message") ?? Header(response.Headers, "grpc-message");
            throw new HttpRequestException($"etcd Put: grpc-status {status ?? "(missing)"}: {message}");
        }
    }

    public void Dispose() => _http.Dispose();

    /// <summary>A gRPC message: flag 0 (not compressed), big-endian length, then PutRequest { 1: key, 2: value }.</summary>
    private static byte[] Frame(byte[] key, byte[] value)
    {
        var size = CodedOutputStream.ComputeTagSize(1) + CodedOutputStream.ComputeLengthSize(key.Length) + key.Length
            + CodedOutputStream.ComputeTagSize(2) + CodedOutputStream.ComputeLengthSize(value.Length) + value.Length;
        var frame = new byte[5 + size];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1, 4), (uint)size);
        using var body = new MemoryStream(frame, 5, size, writable: true);
        using var coded = new CodedOutputStream(body, leaveOpen: true);
        coded.WriteTag(1, WireFormat.WireType.LengthDelimited);
        coded.WriteBytes(ByteString.CopyFrom(key));
        coded.WriteTag(2, WireFormat.WireType.LengthDelimited);
        coded.WriteBytes(ByteString.CopyFrom(value));
        coded.Flush();
        return frame;
    }

    private static string? Header(HttpHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;
}
