using Corral.Store.Etcd;
using Microsoft.Extensions.DependencyInjection;

namespace Corral.Store.Tests.Etcd;

public sealed class EtcdStoreOptionsTests
{
    [Fact]
    public void Validate_Defaults_RequireEndpoints()
    {
        var errors = new EtcdStoreOptions().Validate();
        Assert.Contains(errors, e => e.StartsWith("Endpoints:", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_ValidOptions_NoErrors()
    {
        Assert.Empty(new EtcdStoreOptions { Endpoints = ["http://127.0.0.1:2379", "http://127.0.0.1:22379"] }.Validate());
    }

    [Fact]
    public void Validate_EveryProblem_ReportedAtOnceNamingItsField()
    {
        var options = new EtcdStoreOptions
        {
            Endpoints = ["http://a:1", "https://b:2", "ftp://c:3", "http://a:1"],
            CaFile = "/nonexistent/ca.pem",
            ClientCertificateFile = "/nonexistent/client.pem",
            Username = "root",
            DialTimeout = TimeSpan.Zero,
            RequestTimeout = TimeSpan.FromSeconds(-1),
            RetryBackoffMin = TimeSpan.FromSeconds(2),
            RetryBackoffMax = TimeSpan.FromSeconds(1),
        };
        var errors = options.Validate();
        foreach (var field in new[] { "Endpoints[1]", "Endpoints[2]", "Endpoints:", "CaFile:", "ClientCertificateFile:", "ClientCertificateFile/ClientKeyFile", "Username/Password", "DialTimeout", "RequestTimeout", "RetryBackoffMax" })
        {
            Assert.Contains(errors, e => e.StartsWith(field, StringComparison.Ordinal));
        }
        var thrown = Assert.Throws<ArgumentException>(options.ThrowIfInvalid);
        Assert.Contains("RetryBackoffMax", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddEtcdStore_RegistersOneStoreAsClusterStore()
    {
        var services = new ServiceCollection();
        services.AddEtcdStore(new EtcdStoreOptions { Endpoints = ["http://127.0.0.1:2379"] });
        await using var provider = services.BuildServiceProvider();
        var store = provider.GetRequiredService<IClusterStore>();
        Assert.Same(provider.GetRequiredService<EtcdStore>(), store);
        Assert.Equal("etcd", store.Kind);
        Assert.Throws<ArgumentException>(() => new ServiceCollection().AddEtcdStore(new EtcdStoreOptions()));
    }
}
