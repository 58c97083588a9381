using Corral.Store;
using Corral.Store.Etcd;
using Corral.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Corral.Server.Tests.State;

/// <summary>One real single-member etcd for the class.</summary>
public sealed class EtcdEventLogTests : EventLogTestsBase, IClassFixture<EtcdEventLogTests.Etcd>
{
    private readonly Etcd _etcd;

    public EtcdEventLogTests(Etcd etcd) => _etcd = etcd;

    protected override Task<IClusterStore> CreateStoreAsync() =>
        Task.FromResult<IClusterStore>(new EtcdStore(new EtcdStoreOptions { Endpoints = _etcd.Cluster.ClientUrls }, TimeProvider.System, NullLogger<EtcdStore>.Instance));

    public sealed class Etcd : IAsyncLifetime
    {
        public EtcdCluster Cluster { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            Cluster = await EtcdCluster.StartAsync(1, timeout.Token);
        }

        public async Task DisposeAsync() => await Cluster.DisposeAsync();
    }
}
