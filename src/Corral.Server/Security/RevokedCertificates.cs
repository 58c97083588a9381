using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Corral.Server.State;
using Corral.Store;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Corral.Server.Security;

/// <summary>
/// The serials of revoked node certificates, kept in memory on every server from one store watch of
/// <c>/corral/revoked/</c>, so that checking a request costs no store read. A revocation committed on any server is
/// refused here as soon as the watch delivers it (moments later).
/// </summary>
public sealed class RevokedCertificates : BackgroundService
{
    private readonly ClusterState _state;
    private readonly TimeProvider _time;
    private readonly ILogger<RevokedCertificates> _logger;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private readonly Lock _gate = new();
    private Dictionary<string, RevokedCertificate> _revoked = new(StringComparer.Ordinal);

    public RevokedCertificates(ClusterState state, TimeProvider time, ILogger<RevokedCertificates> logger)
    {
        _state = state ?? throw new ArgumentNullException(nameof(state));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    /// <summary>Completes once the revocations have been loaded for the first time.</summary>
    public Task WaitReadyAsync(CancellationToken cancellationToken) => _ready.Task.WaitAsync(cancellationToken);

    /// <summary>The revocation of <paramref name="certificate"/>, or null when it is not revoked (as of the watch).</summary>
    public RevokedCertificate? Find(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        lock (_gate)
        {
            return _revoked.GetValueOrDefault(certificate.SerialNumber);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var range = await _state.Store.RangeAsync(Keys.RevokedCertificates, null, stoppingToken).ConfigureAwait(false);
                var loaded = new Dictionary<string, RevokedCertificate>(StringComparer.Ordinal);
                foreach (var kv in range.Kvs)
                {
                    var entry = JsonSerializer.Deserialize(kv.Value.Span, SecurityJson.Default.RevokedCertificate)!;
                    loaded[entry.Serial] = entry;
                }
                lock (_gate)
                {
                    _revoked = loaded;
                }
                _ready.TrySetResult();
                await foreach (var batch in _state.Store.WatchAsync(Keys.RevokedCertificates, range.Revision + 1, stoppingToken).ConfigureAwait(false))
                {
                    lock (_gate)
                    {
                        foreach (var e in batch.Events)
                        {
                            var serial = e.Kv.Key[Keys.RevokedCertificates.Length..];
                            if (e.Type == WatchEventType.Put)
                            {
                                _revoked[serial] = JsonSerializer.Deserialize(e.Kv.Value.Span, SecurityJson.Default.RevokedCertificate)!;
                            }
                            else
                            {
                                _revoked.Remove(serial);
                            }
                        }
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is StoreException or IOException or HttpRequestException or JsonException)
            {
                SecurityLog.RevocationWatchFailed(_logger, e);
                await Task.Delay(TimeSpan.FromMilliseconds(200), _time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }
}
