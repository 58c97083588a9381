using System.Diagnostics;
using System.Text;
using Corral.Store.Etcd;
using Corral.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Corral.Store.Tests.Etcd;

/// <summary>etcd user/password auth, enabled on a real member with etcdctl, with tokens that expire after 1 s.</summary>
public sealed class EtcdAuthTests : IAsyncLifetime
{
    private const string Password = "s3cret-pw";
    private EtcdCluster _etcd = null!;

    public async Task InitializeAsync()
    {
        var options = new EtcdClusterOptions { ExtraArguments = ["--auth-token", "simple", "--auth-token-ttl", "1"] };
        _etcd = await EtcdCluster.StartAsync(1, new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token, options);
        await EtcdctlAsync("user", "add", "root:" + Password);
        await EtcdctlAsync("auth", "enable");
    }

    public async Task DisposeAsync() => await _etcd.DisposeAsync();

    [Fact]
    public async Task Auth_WithPassword_WorksAcrossTokenExpiry()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var ct = cts.Token;
        var log = new CapturingLogger<EtcdStore>();
        await using var store = new EtcdStore(new EtcdStoreOptions { Endpoints = _etcd.ClientUrls, Username = "root", Password = Password }, TimeProvider.System, log);
        var prefix = $"/auth/{Guid.NewGuid():N}/";
        var put = await store.PutAsync(prefix + "a", Encoding.UTF8.GetBytes("1"), cancellationToken: ct);
        var lease = await store.GrantLeaseAsync(TimeSpan.FromSeconds(30), ct);
        await store.KeepAliveOnceAsync(lease.Id, ct);
        await using var batches = store.WatchAsync(prefix, put.Revision, ct).GetAsyncEnumerator(ct);
        Assert.True(await batches.MoveNextAsync());
        Assert.Equal(put.Revision, batches.Current.Revision);

        // Simple tokens live 1 s here: later calls must re-authenticate by themselves.
        await Task.Delay(TimeSpan.FromSeconds(3), ct);
        Assert.Equal("1", (await store.GetAsync(prefix + "a", ct))!.ValueString);
        var second = await store.PutAsync(prefix + "b", Encoding.UTF8.GetBytes("2"), cancellationToken: ct);
        await store.KeepAliveOnceAsync(lease.Id, ct);
        Assert.True(await batches.MoveNextAsync());
        Assert.Equal(second.Revision, batches.Current.Revision);
        Assert.True(log.Messages.Count(m => m.StartsWith("authenticated to etcd", StringComparison.Ordinal)) >= 2, "the expired token was never renewed");
    }

    [Fact]
    public async Task Auth_MissingOrWrongCredentials_FailWithClearError()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using (var anonymous = Store(new EtcdStoreOptions()))
        {
            var e = await Assert.ThrowsAsync<StoreException>(() => anonymous.PutAsync("/auth/x", Encoding.UTF8.GetBytes("v"), cancellationToken: cts.Token));
            Assert.Contains("user name is empty", e.Message, StringComparison.Ordinal);
        }
        await using var wrong = Store(new EtcdStoreOptions { Username = "root", Password = "wrong" });
        var error = await Assert.ThrowsAsync<StoreException>(() => wrong.GetAsync("/auth/x", cts.Token));
        Assert.Contains("authentication as 'root' failed", error.Message, StringComparison.Ordinal);
    }

    private EtcdStore Store(EtcdStoreOptions options) =>
        new(options with { Endpoints = _etcd.ClientUrls }, TimeProvider.System, NullLogger<EtcdStore>.Instance);

    private async Task EtcdctlAsync(params string[] arguments)
    {
        var info = new ProcessStartInfo("/usr/bin/etcdctl") { RedirectStandardError = true, RedirectStandardOutput = true };
        info.ArgumentList.Add("--endpoints=" + _etcd.ClientUrls[0]);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        info.Environment["ETCDCTL_API"] = "3";
        using var process = Process.Start(info) ?? throw new InvalidOperationException("etcdctl did not start; run scripts/install-deps.sh");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw;
        }
        Assert.True(process.ExitCode == 0, $"etcdctl {string.Join(' ', arguments)} failed ({process.ExitCode}): {await stdout} {await stderr}");
    }
}
