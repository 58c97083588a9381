using System.Text;
using Corral.Store.Etcd;
using Corral.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Corral.Store.Tests.Etcd;

/// <summary>EtcdStore against a real etcd member serving https with client-certificate auth.</summary>
public sealed class EtcdTlsTests : IAsyncLifetime, IDisposable
{
    private readonly TempDirectory _directory = new("corral-etcd-tls");
    private EtcdTlsFiles _tls = null!;
    private EtcdCluster _etcd = null!;

    public async Task InitializeAsync()
    {
        _tls = EtcdTlsFiles.Create(_directory.Combine("pki"));
        _etcd = await EtcdCluster.StartAsync(1, new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token, new EtcdClusterOptions { Tls = _tls });
    }

    public async Task DisposeAsync() => await _etcd.DisposeAsync();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Tls_WithCaAndClientCertificate_PutGetWatchWork()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var ct = cts.Token;
        Assert.StartsWith("https://", _etcd.ClientUrls[0], StringComparison.Ordinal);
        await using var store = Store(new EtcdStoreOptions { CaFile = _tls.CaFile, ClientCertificateFile = _tls.ClientCertFile, ClientKeyFile = _tls.ClientKeyFile });
        var put = await store.PutAsync("/tls/a", Encoding.UTF8.GetBytes("secure"), cancellationToken: ct);
        Assert.Equal("secure", (await store.GetAsync("/tls/a", ct))!.ValueString);
        await foreach (var batch in store.WatchAsync("/tls/", put.Revision, ct))
        {
            Assert.Equal(put.Revision, batch.Revision);
            break;
        }
        var status = await store.GetStatusAsync(ct);
        Assert.True(status.HasQuorum);
    }

    [Fact]
    public async Task Tls_WithoutClientCertificateOrWithoutCa_FailsNamingTheEndpoint()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using (var noClientCert = Store(new EtcdStoreOptions { CaFile = _tls.CaFile, RetryTimeout = TimeSpan.FromSeconds(1) }))
        {
            var e = await Assert.ThrowsAnyAsync<StoreException>(() => noClientCert.GetAsync("/tls/a", cts.Token));
            Assert.Contains(_etcd.ClientUrls[0], e.Message, StringComparison.Ordinal);
        }
        await using var untrusted = Store(new EtcdStoreOptions { ClientCertificateFile = _tls.ClientCertFile, ClientKeyFile = _tls.ClientKeyFile, RetryTimeout = TimeSpan.FromSeconds(1) });
        var error = await Assert.ThrowsAsync<StoreUnavailableException>(() => untrusted.GetAsync("/tls/a", cts.Token));
        Assert.Contains(_etcd.ClientUrls[0], error.Message, StringComparison.Ordinal);
    }

    private EtcdStore Store(EtcdStoreOptions options) =>
        new(options with { Endpoints = _etcd.ClientUrls }, TimeProvider.System, NullLogger<EtcdStore>.Instance);
}
