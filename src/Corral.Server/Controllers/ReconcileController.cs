using System.Collections.Concurrent;
using Corral.Server.Agents;
using Corral.Server.Leadership;
using Corral.Server.State;
using Corral.Store;
using Microsoft.Extensions.Logging;

namespace Corral.Server.Controllers;

/// <summary>
/// The leader's reconcile loop: reads desired and actual state at one revision, plans with the pure
/// <see cref="Core.Reconciliation.Reconciler"/> and commits the plan in transactions that can only succeed while this
/// term lasts and while nothing the plan read has changed. A plan that went stale is never half applied beyond a
/// transaction boundary: the remaining transactions are dropped and the loop plans again from a fresh read.
/// </summary>
/// <remarks>
/// Runs after any change under <c>/corral/services/</c>, <c>/corral/replicas/</c> or <c>/corral/nodes/</c> (debounced
/// by <see cref="ControlPlaneOptions.ReconcileDebounce"/>; its own commits do not wake it) and at least every
/// <see cref="ControlPlaneOptions.ReconcileInterval"/>; also at the moment the next eviction timeout of a down node's
/// replicas is over, so a lost node's replicas are replaced without waiting for the interval.
/// </remarks>
public sealed partial class ReconcileController : ILeaderController
{
    /// <summary>Passes in a row that may go stale before the loop waits for the next wake-up.</summary>
    private const int MaxStaleRetries = 5;

    /// <summary>Placement transactions in flight at once while a pass commits.</summary>
    internal const int CommitConcurrency = 8;

    private readonly ClusterState _state;
    private readonly AssignmentTracker? _cache;
    private readonly ControlPlaneOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<ReconcileController> _logger;

    /// <summary>Revisions of this controller's own commits, so their watch events do not wake it again.</summary>
    private readonly ConcurrentDictionary<long, byte> _ownRevisions = new();

    /// <param name="state">The store.</param>
    /// <param name="cache">
    /// The watch-fed in-memory state every server keeps for its agents; when given, passes plan from it instead of
    /// reading every service, replica and node from the store. Null reads the store each pass.
    /// </param>
    /// <param name="options">Timing.</param>
    /// <param name="time">The leader's clock (eviction timeouts, intervals).</param>
    /// <param name="logger">Logger.</param>
    public ReconcileController(ClusterState state, AssignmentTracker? cache, ControlPlaneOptions options, TimeProvider time, ILogger<ReconcileController> logger)
    {
        _state = state ?? throw new ArgumentNullException(nameof(state));
        _cache = cache;
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    /// <inheritdoc />
    public string Name => "reconciler";

    /// <inheritdoc />
    public Task EstablishAsync(LeadershipTerm term, CancellationToken cancellationToken)
    {
        _ownRevisions.Clear();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task RevokeAsync(CancellationToken cancellationToken)
    {
        _ownRevisions.Clear();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task RunAsync(LeadershipTerm term, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(term);
        var wake = new WakeSignal();
        var from = await _state.Store.GetRevisionAsync(cancellationToken).ConfigureAwait(false) + 1;
        var watching = Task.Run(() => WatchAsync(from, wake, cancellationToken), CancellationToken.None);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var wait = _options.ReconcileInterval;
                try
                {
                    for (var attempt = 0; attempt < MaxStaleRetries; attempt++)
                    {
                        // Read before planning: an eviction that falls due while the pass commits is not skipped.
                        var planned = _time.GetUtcNow();
                        var pass = await PlanAsync(term, cancellationToken).ConfigureAwait(false);
                        var outcome = await CommitAsync(term, pass, cancellationToken).ConfigureAwait(false);
                        if (NextEviction(pass.Snapshot, planned) is { } due)
                        {
                            // A millisecond late, so the pass then sees the timeout as over.
                            var untilDue = due - _time.GetUtcNow() + TimeSpan.FromMilliseconds(1);
                            wait = untilDue < wait ? (untilDue > TimeSpan.Zero ? untilDue : TimeSpan.FromMilliseconds(1)) : wait;
                        }
                        if (!outcome.Stale || outcome.LeadershipLost)
                        {
                            break;
                        }
                    }
                }
                catch (Exception e) when (e is StoreException or IOException or HttpRequestException)
                {
                    ControllersLog.PassFailed(_logger, e);
                }
                if (await wake.WaitAsync(wait, _time, cancellationToken).ConfigureAwait(false)
                    && _options.ReconcileDebounce > TimeSpan.Zero)
                {
                    await Task.Delay(_options.ReconcileDebounce, _time, cancellationToken).ConfigureAwait(false);
                    wake.TryConsume();
                }
            }
        }
        finally
        {
            await watching.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>
    /// One pass: read, plan, commit. Returns what was done; when <see cref="ReconcileOutcome.Stale"/> the caller should
    /// run another pass (unless <see cref="ReconcileOutcome.LeadershipLost"/>).
    /// </summary>
    public async Task<ReconcileOutcome> ReconcileOnceAsync(LeadershipTerm term, CancellationToken cancellationToken)
    {
        var pass = await PlanAsync(term, cancellationToken).ConfigureAwait(false);
        return await CommitAsync(term, pass, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Commits a pass: the ordered transactions one by one, stopping at the first refused; then the rest with up to
    /// <see cref="CommitConcurrency"/> in flight (the store commits concurrent writes together), none started after one
    /// was refused.
    /// </summary>
    internal async Task<ReconcileOutcome> CommitAsync(LeadershipTerm term, ReconcilePass pass, CancellationToken cancellationToken)
    {
        var committed = 0;
        for (var i = 0; i < pass.Ordered; i++)
        {
            var result = await _state.Store.TxnAsync(pass.Transactions[i], cancellationToken).ConfigureAwait(false);
            if (!result.Succeeded)
            {
                return Refused(term, pass, committed, result);
            }
            _ownRevisions.TryAdd(result.Revision, 0);
            committed++;
        }

        var inFlight = new List<Task<TxnResult>>(CommitConcurrency);
        TxnResult? refused = null;
        var next = pass.Ordered;
        while (next < pass.Transactions.Count || inFlight.Count > 0)
        {
            while (refused is null && next < pass.Transactions.Count && inFlight.Count < CommitConcurrency)
            {
                inFlight.Add(_state.Store.TxnAsync(pass.Transactions[next++], cancellationToken));
            }
            if (inFlight.Count == 0)
            {
                break;
            }
            var done = await Task.WhenAny(inFlight).ConfigureAwait(false);
            inFlight.Remove(done);
            var result = await done.ConfigureAwait(false);
            if (result.Succeeded)
            {
                _ownRevisions.TryAdd(result.Revision, 0);
                committed++;
            }
            else
            {
                refused ??= result;
            }
        }
        if (refused is not null)
        {
            return Refused(term, pass, committed, refused);
        }
        if (pass.Transactions.Count > 0)
        {
            ControllersLog.Reconciled(_logger, pass.Snapshot.Revision, pass.Placed, pass.Pending, pass.Stopping, pass.Deleted, pass.Lost, committed, pass.Transactions.Count);
        }
        return Outcome(pass, committed, stale: false, leadershipLost: false);
    }

    private ReconcileOutcome Refused(LeadershipTerm term, ReconcilePass pass, int committed, TxnResult result)
    {
        var leaderKey = result.Results is [TxnOpResult.Range read] ? read.Result.Kvs : [];
        var leadershipLost = leaderKey.Count == 0 || leaderKey[0].Lease != term.LeaseId;
        if (leadershipLost)
        {
            ControllersLog.PlanRefusedNotLeader(_logger, pass.Snapshot.Revision);
        }
        else
        {
            ControllersLog.StalePlan(_logger, pass.Snapshot.Revision, committed, pass.Transactions.Count);
        }
        return Outcome(pass, committed, stale: true, leadershipLost);
    }

    private static ReconcileOutcome Outcome(ReconcilePass pass, int committed, bool stale, bool leadershipLost) => new(
        pass.Snapshot.Revision, pass.Placed, pass.Pending, pass.Stopping, pass.Deleted, pass.Lost,
        pass.Transactions.Count, committed, stale, leadershipLost);

    private async Task WatchAsync(long from, WakeSignal wake, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await foreach (var batch in _state.Store.WatchAsync(Keys.Root, from, cancellationToken).ConfigureAwait(false))
                {
                    from = batch.Revision + 1;
                    if (_ownRevisions.TryRemove(batch.Revision, out _))
                    {
                        continue;
                    }
                    if (batch.Events.Any(e => IsWatched(e.Kv.Key)))
                    {
                        wake.Set();
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is StoreException or IOException or HttpRequestException)
            {
                ControllersLog.WatchFailed(_logger, Name, e);
                wake.Set();
                await Task.Delay(TimeSpan.FromMilliseconds(100), _time, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                try
                {
                    from = await _state.Store.GetRevisionAsync(cancellationToken).ConfigureAwait(false) + 1;
                }
                catch (Exception again) when (again is StoreException or IOException or HttpRequestException or OperationCanceledException)
                {
                }
            }
        }
    }

    private static bool IsWatched(string key) =>
        key.StartsWith(Keys.Services, StringComparison.Ordinal)
        || key.StartsWith(Keys.Replicas, StringComparison.Ordinal)
        || key.StartsWith(Keys.Nodes, StringComparison.Ordinal);
}
