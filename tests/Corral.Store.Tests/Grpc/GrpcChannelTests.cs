using System.Diagnostics;
using Corral.Store.Etcd.Grpc;
using Corral.Testing;
using Google.Protobuf.WellKnownTypes;

namespace Corral.Store.Tests.Grpc;

public sealed class GrpcChannelTests(GrpcTestServer server) : IClassFixture<GrpcTestServer>
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Unary_OkResponse_ReturnsMessage()
    {
        using var channel = new GrpcChannel(server.Address);
        var reply = await channel.UnaryAsync("/test.Svc/Echo", new StringValue { Value = "hi" }, StringValue.Parser, default, Timeout());
        Assert.Equal("echo:hi", reply.Value);
    }

    [Fact]
    public async Task Unary_ConcurrentCalls_AllAnsweredOverOneChannel()
    {
        using var channel = new GrpcChannel(server.Address);
        var calls = Enumerable.Range(0, 64).Select(i => channel.UnaryAsync("/test.Svc/Echo", new StringValue { Value = i.ToString(System.Globalization.CultureInfo.InvariantCulture) }, StringValue.Parser, default, Timeout()));
        var replies = await Task.WhenAll(calls);
        Assert.Equal(Enumerable.Range(0, 64).Select(i => "echo:" + i), replies.Select(r => r.Value));
    }

    [Fact]
    public async Task Unary_Metadata_SentAsHeadersWithTimeout()
    {
        using var channel = new GrpcChannel(server.Address);
        var options = new GrpcCallOptions(TimeSpan.FromSeconds(20), [new("token", "abc.123")]);
        var reply = await channel.UnaryAsync("/test.Svc/Metadata", new StringValue(), StringValue.Parser, options, Timeout());
        Assert.Equal("abc.123|20000m", reply.Value);
    }

    [Fact]
    public async Task Unary_TrailersOnlyError_ThrowsTypedStatus()
    {
        using var channel = new GrpcChannel(server.Address);
        var error = await Assert.ThrowsAsync<GrpcException>(() => channel.UnaryAsync("/test.Svc/TrailersOnly", new StringValue(), StringValue.Parser, default, Timeout()));
        Assert.Equal(GrpcStatusCode.NotFound, error.StatusCode);
        Assert.Equal("nothing here", error.StatusMessage);
        Assert.False(error.RequestNotSent);
    }

    [Fact]
    public async Task Unary_ErrorInTrailers_ThrowsWithPercentDecodedMessage()
    {
        using var channel = new GrpcChannel(server.Address);
        var error = await Assert.ThrowsAsync<GrpcException>(() => channel.UnaryAsync("/test.Svc/ErrorInTrailers", new StringValue(), StringValue.Parser, default, Timeout()));
        Assert.Equal(GrpcStatusCode.FailedPrecondition, error.StatusCode);
        Assert.Equal("café % failed", error.StatusMessage);
    }

    [Fact]
    public async Task Unary_Http503WithoutGrpcStatus_MapsToUnavailable()
    {
        using var channel = new GrpcChannel(server.Address);
        var error = await Assert.ThrowsAsync<GrpcException>(() => channel.UnaryAsync("/test.Svc/Http503", new StringValue(), StringValue.Parser, default, Timeout()));
        Assert.Equal(GrpcStatusCode.Unavailable, error.StatusCode);
    }

    [Fact]
    public async Task Unary_SlowPastDeadline_ThrowsDeadlineExceeded()
    {
        using var channel = new GrpcChannel(server.Address);
        var watch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<GrpcException>(() => channel.UnaryAsync("/test.Svc/Slow", new StringValue(), StringValue.Parser, new GrpcCallOptions(TimeSpan.FromMilliseconds(300)), Timeout()));
        Assert.Equal(GrpcStatusCode.DeadlineExceeded, error.StatusCode);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(25), $"deadline enforced only after {watch.Elapsed}");
    }

    [Fact]
    public async Task Unary_CallerCancels_ThrowsOperationCanceled()
    {
        using var channel = new GrpcChannel(server.Address);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => channel.UnaryAsync("/test.Svc/Slow", new StringValue(), StringValue.Parser, default, cts.Token));
    }

    [Fact]
    public async Task Unary_ConnectionRefused_UnavailableAndNotSent()
    {
        var port = FreePorts.Next();
        using var channel = new GrpcChannel(new Uri($"http://127.0.0.1:{port}"));
        var error = await Assert.ThrowsAsync<GrpcException>(() => channel.UnaryAsync("/test.Svc/Echo", new StringValue(), StringValue.Parser, default, Timeout()));
        Assert.Equal(GrpcStatusCode.Unavailable, error.StatusCode);
        Assert.True(error.RequestNotSent);
        Assert.Contains($"127.0.0.1:{port}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unary_MessageSplitAcrossReads_Reassembled()
    {
        using var channel = new GrpcChannel(server.Address);
        var reply = await channel.UnaryAsync("/test.Svc/Split", new StringValue(), StringValue.Parser, default, Timeout());
        Assert.Equal(new string('x', 3000), reply.Value);
    }

    [Fact]
    public async Task ServerStreaming_NMessages_AllInOrderThenEnd()
    {
        using var channel = new GrpcChannel(server.Address);
        await using var call = channel.ServerStreaming("/test.Svc/Count", new StringValue { Value = "250" }, StringValue.Parser, default, Timeout());
        var received = new List<string>();
        while (await call.ReadAsync(Timeout()) is { } message)
        {
            received.Add(message.Value);
        }
        Assert.Equal(Enumerable.Range(0, 250).Select(i => "m" + i), received);
    }

    [Fact]
    public async Task ServerStreaming_ErrorInTrailers_ThrowsAtEnd()
    {
        using var channel = new GrpcChannel(server.Address);
        await using var call = channel.ServerStreaming("/test.Svc/ErrorInTrailers", new StringValue(), StringValue.Parser, default, Timeout());
        var error = await Assert.ThrowsAsync<GrpcException>(async () => await call.ReadAsync(Timeout()));
        Assert.Equal(GrpcStatusCode.FailedPrecondition, error.StatusCode);
    }

    [Fact]
    public async Task Duplex_InterleavedWritesAndReads_EachAnsweredThenCleanEnd()
    {
        using var channel = new GrpcChannel(server.Address);
        await using var call = channel.Duplex("/test.Svc/Duplex", StringValue.Parser, default, Timeout());
        for (var i = 0; i < 20; i++)
        {
            await call.WriteAsync(new StringValue { Value = "q" + i }, Timeout());
            var reply = await call.ReadAsync(Timeout());
            Assert.Equal("re:q" + i, reply?.Value);
        }
        call.CompleteRequests();
        Assert.Null(await call.ReadAsync(Timeout()));
    }

    [Fact]
    public async Task Duplex_Disposed_ServerSeesEndAndFurtherWritesFail()
    {
        using var channel = new GrpcChannel(server.Address);
        var call = channel.Duplex("/test.Svc/Duplex", StringValue.Parser, default, Timeout());
        await call.WriteAsync(new StringValue { Value = "x" }, Timeout());
        Assert.Equal("re:x", (await call.ReadAsync(Timeout()))?.Value);
        await call.DisposeAsync();
        Assert.Throws<GrpcException>(() => call.Write(new StringValue { Value = "y" }));
    }

    [Fact]
    public void Constructor_UnsupportedScheme_Throws()
    {
        Assert.Throws<ArgumentException>(() => new GrpcChannel(new Uri("ftp://127.0.0.1:1")));
    }

    private static CancellationToken Timeout() => new CancellationTokenSource(Generous).Token;
}
