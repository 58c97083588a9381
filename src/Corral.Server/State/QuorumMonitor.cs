using Corral.Store;
using Corral.Store.Etcd;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Corral.Server.State;

/// <summary>
/// Watches whether the store has its quorum (every <see cref="Interval"/>, through <see cref="IClusterStore.GetStatusAsync"/>),
/// so that while it is lost the server refuses writes at once with a clear 503 instead of letting each one time out,
/// and serves reads from the etcd member's own copy (<see cref="EtcdStore.ServeStaleReads"/>). When the quorum returns,
/// everything resumes by itself. The embedded SQLite store always has its quorum.
/// <para>
/// The quorum is declared lost only when the probes keep finding no majority for <see cref="LostAfter"/>: while etcd
/// elects a new leader (its leader's host died or restarted) the members answer "no leader" for up to about two
/// election timeouts, and that is not a quorum loss: writes wait in etcd and go through once it has a leader. While a
/// probe finds no quorum, the next comes after <see cref="RecheckInterval"/>. One probe that finds a majority ends
/// the loss at once.
/// </para>
/// </summary>
public sealed partial class QuorumMonitor : BackgroundService
{
    /// <summary>How often the store's members are probed.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    /// <summary>How long the probes must find no majority before the quorum counts as lost (covers an etcd election).</summary>
    public static readonly TimeSpan LostAfter = TimeSpan.FromSeconds(2);

    /// <summary>How soon a probe follows one that found no majority.</summary>
    public static readonly TimeSpan RecheckInterval = TimeSpan.FromMilliseconds(250);

    private readonly IClusterStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger<QuorumMonitor> _logger;
    private volatile StoreStatus? _lost;
    private DateTimeOffset? _failingSince;

    public QuorumMonitor(IClusterStore store, TimeProvider time, ILogger<QuorumMonitor> logger)
    {
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    /// <summary>True while the probes have found fewer healthy members than a majority for <see cref="LostAfter"/> or longer.</summary>
    public bool QuorumLost => _lost is not null;

    /// <summary>Why writes are refused now, for the 503 problem; null while the quorum holds.</summary>
    public string? LostReason => _lost is { } status
        ? $"the store has lost its quorum: {status.Members.Count(Reachable)} of {status.Members.Count} etcd members answer and {status.Majority} are needed. "
          + "Writes are refused until a majority is back; reads are served from this server's copy and may be stale; replicas keep running. "
          + "Restart the stopped members (see docs/ha.md, 'Recovering from quorum loss')."
        : null;

    /// <summary>A member that answers, healthy or only without a leader (it cannot find a majority either).</summary>
    public static bool Reachable(StoreMember member) => member.Healthy || member.Error?.Contains("no leader", StringComparison.Ordinal) == true;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_store.Kind == "sqlite")
        {
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            await ProbeOnceAsync(stoppingToken).ConfigureAwait(false);
            var next = _failingSince is not null && _lost is null ? RecheckInterval : Interval;
            await Task.Delay(next, _time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>Probes the store once and updates <see cref="QuorumLost"/>.</summary>
    internal async Task ProbeOnceAsync(CancellationToken cancellationToken)
    {
        StoreStatus status;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(3));
            status = await _store.GetStatusAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return;
        }
        catch (Exception e) when (e is StoreException or OperationCanceledException or IOException or HttpRequestException)
        {
            // No answer at all within the probe's time: as good as no quorum.
            status = new StoreStatus(_store.Kind, 0, 0, [new StoreMember("store", "", false, false, e.Message)], 0);
        }
        var wasLost = _lost is not null;
        if (status.HasQuorum)
        {
            _failingSince = null;
            _lost = null;
        }
        else
        {
            var now = _time.GetUtcNow();
            _failingSince ??= now;
            if (wasLost || now - _failingSince.Value >= LostAfter)
            {
                _lost = status;
            }
        }
        var lost = _lost is not null;
        if (Metrics.InstrumentedStore.Unwrap(_store) is EtcdStore etcd)
        {
            // Reads go to the member's own copy from the first probe without a majority: they answer during an
            // election too, and a read has nothing to refuse.
            etcd.ServeStaleReads = !status.HasQuorum;
        }
        if (wasLost != lost)
        {
            if (!lost)
            {
                QuorumRestored(_logger, status.Members.Count(m => m.Healthy), status.Members.Count);
            }
            else
            {
                QuorumLostLog(_logger, status.Members.Count(m => m.Healthy), status.Members.Count, status.Majority);
            }
        }
    }

    [LoggerMessage(EventId = 4800, Level = LogLevel.Error, Message = "The store lost its quorum: {Healthy} of {Members} members healthy, {Majority} needed; refusing writes")]
    private static partial void QuorumLostLog(ILogger logger, int healthy, int members, int majority);

    [LoggerMessage(EventId = 4801, Level = LogLevel.Warning, Message = "The store has its quorum again: {Healthy} of {Members} members healthy; accepting writes")]
    private static partial void QuorumRestored(ILogger logger, int healthy, int members);
}
