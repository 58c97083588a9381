using Corral.Store.Etcd.Api;
using Corral.Store.Etcd.Grpc;
using Corral.Testing;
using Google.Protobuf;

namespace Corral.Store.Tests.Grpc;

public sealed class GrpcChannelEtcdTests : IAsyncLifetime
{
    private EtcdCluster _etcd = null!;

    public async Task InitializeAsync() => _etcd = await EtcdCluster.StartAsync(1, new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);

    public async Task DisposeAsync() => await _etcd.DisposeAsync();

    [Fact]
    public async Task Unary_PutThenRange_AgainstRealEtcd()
    {
        using var channel = new GrpcChannel(new Uri(_etcd.ClientUrls[0]));
        var ct = new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token;
        var put = await channel.UnaryAsync("/etcdserverpb.KV/Put", new PutRequest { Key = ByteString.CopyFromUtf8("/g/a"), Value = ByteString.CopyFromUtf8("1") }, PutResponse.Parser, default, ct);
        var range = await channel.UnaryAsync("/etcdserverpb.KV/Range", new RangeRequest { Key = ByteString.CopyFromUtf8("/g/a") }, RangeResponse.Parser, default, ct);
        Assert.Equal(put.Header.Revision, range.Header.Revision);
        Assert.Equal("1", Assert.Single(range.Kvs).Value.ToStringUtf8());
    }

    [Fact]
    public async Task Unary_EtcdError_MapsStatusAndMessage()
    {
        using var channel = new GrpcChannel(new Uri(_etcd.ClientUrls[0]));
        var ct = new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token;
        var error = await Assert.ThrowsAsync<GrpcException>(() => channel.UnaryAsync("/etcdserverpb.Lease/LeaseRevoke", new LeaseRevokeRequest { ID = 12345 }, LeaseRevokeResponse.Parser, default, ct));
        Assert.Equal(GrpcStatusCode.NotFound, error.StatusCode);
        Assert.Contains("requested lease not found", error.StatusMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Duplex_Watch_CreatedThenEvent()
    {
        using var channel = new GrpcChannel(new Uri(_etcd.ClientUrls[0]));
        var ct = new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token;
        await using var call = channel.Duplex("/etcdserverpb.Watch/Watch", WatchResponse.Parser, default, ct);
        call.Write(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = ByteString.CopyFromUtf8("/w/"), RangeEnd = ByteString.CopyFromUtf8("/w0") } });
        var created = await call.ReadAsync(ct);
        Assert.True(created?.Created);
        await channel.UnaryAsync("/etcdserverpb.KV/Put", new PutRequest { Key = ByteString.CopyFromUtf8("/w/x"), Value = ByteString.CopyFromUtf8("v") }, PutResponse.Parser, default, ct);
        var events = await call.ReadAsync(ct);
        Assert.Equal("/w/x", Assert.Single(events!.Events).Kv.Key.ToStringUtf8());
    }
}
