using Corral.Store.Etcd;
using Corral.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Corral.Store.Tests.Etcd;

/// <summary>One real single-member etcd for a whole test class.</summary>
public sealed class EtcdSingleMemberFixture : IAsyncLifetime
{
    public EtcdCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Cluster = await EtcdCluster.StartAsync(1, new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);

    public async Task DisposeAsync() => await Cluster.DisposeAsync();

    /// <summary>A store on this cluster; the caller disposes it.</summary>
    public EtcdStore CreateStore(EtcdStoreOptions? options = null) =>
        new((options ?? new EtcdStoreOptions()) with { Endpoints = Cluster.ClientUrls }, TimeProvider.System, NullLogger<EtcdStore>.Instance);
}
