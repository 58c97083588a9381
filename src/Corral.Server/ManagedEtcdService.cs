using Corral.Store.Etcd;
using Microsoft.Extensions.Hosting;

namespace Corral.Server;

/// <summary>Runs the server's managed etcd member for as long as the server runs (registered first, so it starts first and stops last).</summary>
internal sealed class ManagedEtcdService(ManagedEtcdOptions options, ILogger<ManagedEtcdService> logger) : IHostedService, IAsyncDisposable
{
    private readonly ManagedEtcdMember _member = new(options, logger);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _member.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => _member.StopAsync();

    public ValueTask DisposeAsync() => _member.DisposeAsync();
}
