using Corral.Store.Etcd;
using Corral.Store.Etcd.Grpc;

namespace Corral.Store.Tests.Etcd;

/// <summary>Which etcd failures count as "the store is unavailable" (503 to API clients) and which are real errors (500).</summary>
public sealed class EtcdTransientErrorTests
{
    [Theory]
    [InlineData(GrpcStatusCode.Unavailable, "etcdserver: no leader")]
    [InlineData(GrpcStatusCode.DeadlineExceeded, "deadline")]
    [InlineData(GrpcStatusCode.Unknown, "context deadline exceeded")]
    [InlineData(GrpcStatusCode.Unknown, "etcdserver: request timed out")]
    [InlineData(GrpcStatusCode.Unknown, "etcdserver: request timed out, possibly due to previous leader failure")]
    [InlineData(GrpcStatusCode.Unknown, "etcdserver: leader changed")]
    [InlineData(GrpcStatusCode.Unknown, "etcdserver: server stopped")]
    [InlineData(GrpcStatusCode.Unknown, "raft proposal dropped")]
    public void Transient(GrpcStatusCode code, string message) =>
        Assert.True(EtcdStore.IsTransient(new GrpcException(code, message)));

    [Theory]
    [InlineData("etcdserver: no leader", true)]
    [InlineData("raft proposal dropped", true)]
    [InlineData("etcdserver: request timed out", false)]
    [InlineData("context deadline exceeded", false)]
    public void CertainlyNotApplied_OnlyWhenTheWriteNeverEnteredTheLog(string message, bool notApplied) =>
        Assert.Equal(notApplied, EtcdStore.IsCertainlyNotApplied(new GrpcException(GrpcStatusCode.Unknown, message)));

    [Theory]
    [InlineData(GrpcStatusCode.InvalidArgument, "etcdserver: too many operations in txn request")]
    [InlineData(GrpcStatusCode.Unknown, "etcdserver: mvcc: required revision has been compacted")]
    [InlineData(GrpcStatusCode.PermissionDenied, "etcdserver: permission denied")]
    [InlineData(GrpcStatusCode.Unknown, "something else")]
    public void NotTransient(GrpcStatusCode code, string message) =>
        Assert.False(EtcdStore.IsTransient(new GrpcException(code, message)));
}
