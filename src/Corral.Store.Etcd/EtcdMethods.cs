namespace Corral.Store.Etcd;

/// <summary>gRPC method paths of the etcd v3 API (see proto/etcd/rpc.proto).</summary>
internal static class EtcdMethods
{
    public const string Range = "/etcdserverpb.KV/Range";
    public const string Put = "/etcdserverpb.KV/Put";
    public const string DeleteRange = "/etcdserverpb.KV/DeleteRange";
    public const string Txn = "/etcdserverpb.KV/Txn";
    public const string Compact = "/etcdserverpb.KV/Compact";
    public const string Watch = "/etcdserverpb.Watch/Watch";
    public const string LeaseGrant = "/etcdserverpb.Lease/LeaseGrant";
    public const string LeaseRevoke = "/etcdserverpb.Lease/LeaseRevoke";
    public const string LeaseKeepAlive = "/etcdserverpb.Lease/LeaseKeepAlive";
    public const string LeaseTimeToLive = "/etcdserverpb.Lease/LeaseTimeToLive";
    public const string MemberList = "/etcdserverpb.Cluster/MemberList";
    public const string MemberAdd = "/etcdserverpb.Cluster/MemberAdd";
    public const string MemberRemove = "/etcdserverpb.Cluster/MemberRemove";
    public const string Status = "/etcdserverpb.Maintenance/Status";
    public const string HashKV = "/etcdserverpb.Maintenance/HashKV";
    public const string MoveLeader = "/etcdserverpb.Maintenance/MoveLeader";
    public const string Authenticate = "/etcdserverpb.Auth/Authenticate";
}
