using Corral.Store.Tests.Conformance;

namespace Corral.Store.Tests.Etcd;

/// <summary>The conformance suite against <see cref="Corral.Store.Etcd.EtcdStore"/> on a real 3-member etcd cluster (one per class).</summary>
public sealed class EtcdThreeMemberConformanceTests(EtcdThreeMemberFixture etcd) : ClusterStoreConformanceTests, IClassFixture<EtcdThreeMemberFixture>
{
    protected override Task<IClusterStore> CreateStoreAsync() => Task.FromResult<IClusterStore>(etcd.CreateStore());

    /// <summary>Tests of one class run one at a time, so emptying the class's own cluster is safe.</summary>
    protected override async Task<IClusterStore> CreateEmptyStoreAsync()
    {
        var store = etcd.CreateStore();
        await store.DeletePrefixAsync("", Timeout());
        return store;
    }
}
