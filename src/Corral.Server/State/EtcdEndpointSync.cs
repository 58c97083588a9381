using System.Text.Json;
using Corral.Server.Metrics;
using Corral.Store;
using Corral.Store.Etcd;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Corral.Server.State;

/// <summary>
/// Keeps this server's etcd endpoints equal to the cluster's members, like clientv3's AutoSyncInterval: on start, every
/// <see cref="Interval"/>, and every <see cref="FastInterval"/> for a while after a server joined through this one
/// (<see cref="MemberAdded"/>). The server's own member
/// (managed etcd) or first configured endpoint stays first. A changed list is written to <c>server.json</c>, so a
/// restart while the local member is down still reaches the others. Does nothing on SQLite.
/// </summary>
public sealed partial class EtcdEndpointSync : BackgroundService
{
    private readonly IClusterStore _store;
    private readonly ServerPaths _paths;
    private readonly string? _preferred;
    private readonly TimeProvider _time;
    private readonly ILogger<EtcdEndpointSync> _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Controllers.WakeSignal _wake = new();
    private long _fastUntilTicks;

    public EtcdEndpointSync(IClusterStore store, ServerPaths paths, ServerConfig config, TimeProvider time, ILogger<EtcdEndpointSync> logger)
    {
        ArgumentNullException.ThrowIfNull(config);
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _paths = paths ?? throw new ArgumentNullException(nameof(paths));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _preferred = config.ManagedEtcd?.ClientUrl ?? config.EtcdEndpoints.FirstOrDefault();
    }

    /// <summary>How often the member list is read again: 30 s (clientv3 users commonly set AutoSyncInterval to 30 s).</summary>
    public static TimeSpan Interval { get; } = TimeSpan.FromSeconds(30);

    private EtcdStore? Etcd => InstrumentedStore.Unwrap(_store) as EtcdStore;

    /// <summary>Syncs once: reads the member list, switches the endpoints and saves them when they changed.</summary>
    public async Task SyncOnceAsync(CancellationToken cancellationToken)
    {
        if (Etcd is not { } etcd)
        {
            return;
        }
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var before = etcd.Endpoints;
            var after = await etcd.SyncEndpointsAsync(_preferred, cancellationToken).ConfigureAwait(false);
            Save(after, before);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// A server joined through this one: its member's client URL shows in the member list once the member has started
    /// and joined, so the list is read every <see cref="FastInterval"/> for the next <see cref="FastFor"/>. (The URL is
    /// not used before: calls failing over to a member that is still starting would wait on it.)
    /// </summary>
    public void MemberAdded()
    {
        Volatile.Write(ref _fastUntilTicks, (_time.GetUtcNow() + FastFor).UtcTicks);
        _wake.Set();
    }

    /// <summary>How often the member list is read after a join: every 2 s.</summary>
    public static TimeSpan FastInterval { get; } = TimeSpan.FromSeconds(2);

    /// <summary>For how long after a join the member list is read every <see cref="FastInterval"/>: 1 min.</summary>
    public static TimeSpan FastFor { get; } = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (Etcd is null)
        {
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await SyncOnceAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is StoreException or IOException or HttpRequestException or OperationCanceledException or UnauthorizedAccessException or JsonException)
            {
                SyncFailed(_logger, e);
            }
            var fast = _time.GetUtcNow().UtcTicks < Volatile.Read(ref _fastUntilTicks);
            try
            {
                await _wake.WaitAsync(fast ? FastInterval : Interval, _time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>Writes <paramref name="endpoints"/> into server.json (atomically) when they differ from what it holds and it names an etcd store.</summary>
    private void Save(IReadOnlyList<string> endpoints, IReadOnlyList<string> before)
    {
        var config = JsonSerializer.Deserialize(File.ReadAllText(_paths.ServerConfig), ServerJson.Default.ServerConfig);
        if (config is null || config.Store != "etcd" || config.EtcdEndpoints.SequenceEqual(endpoints, StringComparer.OrdinalIgnoreCase))
        {
            return;
        }
        var temp = _paths.ServerConfig + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(config with { EtcdEndpoints = [.. endpoints] }, ServerJson.Default.ServerConfig));
        File.Move(temp, _paths.ServerConfig, overwrite: true);
        Saved(_logger, string.Join(", ", endpoints), string.Join(", ", before), _paths.ServerConfig);
    }

    [LoggerMessage(EventId = 4950, Level = LogLevel.Information, Message = "etcd endpoints {Endpoints} (were {Before}) saved to {File}")]
    private static partial void Saved(ILogger logger, string endpoints, string before, string file);

    [LoggerMessage(EventId = 4951, Level = LogLevel.Warning, Message = "Could not refresh the etcd endpoints from the member list")]
    private static partial void SyncFailed(ILogger logger, Exception error);

    public override void Dispose()
    {
        _gate.Dispose();
        base.Dispose();
    }
}
