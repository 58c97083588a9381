using System.Collections.Concurrent;
using Corral.Server.Leadership;
using Corral.Server.State;
using Corral.Store;
using Microsoft.Extensions.Logging;

namespace Corral.Server.Controllers;

/// <summary>
/// The leader's reconcile loop: reads desired and actual state at one revision, plans with the pure
/// <see cref="Core.Reconciliation.Reconciler"/> and commits the plan in transactions that can only succeed while this
/// term lasts and while nothing the plan read has changed. A plan that went stale is never half applied beyond a
/// transaction boundary: the remaining transactions are dropped and the loop plans again from a fresh read. A plan
/// that only creates and places replicas (<see cref="ReconcilePass.Independent"/>) sends several transactions at
/// once after its service version records; when one is refused, others already sent may commit, which is safe
/// because each carries every compare it was decided from and none frees capacity another relies on.
/// </summary>
/// <remarks>
/// Runs after any change under <c>/corral/services/</c>, <c>/corral/replicas/</c> or <c>/corral/nodes/</c> (debounced
/// by <see cref="ControlPlaneOptions.ReconcileDebounce"/>; its own commits do not wake it) and at least every
/// <see cref="ControlPlaneOptions.ReconcileInterval"/>, which bounds how late an eviction timeout is noticed.
/// </remarks>
public sealed partial class ReconcileController : ILeaderController
{
    /// <summary>Passes in a row that may go stale before the loop waits for the next wake-up.</summary>
    private const int MaxStaleRetries = 5;

    /// <summary>Transactions of an independent pass in flight at once: the store overlaps their round trips and durable writes.</summary>
    internal const int CommitWindow = 8;

    private readonly ClusterState _state;
    private readonly ControlPlaneOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<ReconcileController> _logger;

    /// <summary>Revisions of this controller's own commits, so their watch events do not wake it again.</summary>
    private readonly ConcurrentDictionary<long, byte> _ownRevisions = new();

    public ReconcileController(ClusterState state, ControlPlaneOptions options, TimeProvider time, ILogger<ReconcileController> logger)
    {
        _state = state ?? throw new ArgumentNullException(nameof(state));
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
                try
                {
                    for (var attempt = 0; attempt < MaxStaleRetries; attempt++)
                    {
                        var outcome = await ReconcileOnceAsync(term, cancellationToken).ConfigureAwait(false);
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
                if (await wake.WaitAsync(_options.ReconcileInterval, _time, cancellationToken).ConfigureAwait(false)
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
    /// Commits a pass's transactions in order and stops sending at the first that is refused. The transactions of an
    /// <see cref="ReconcilePass.Independent"/> pass that follow its version records are sent up to
    /// <see cref="CommitWindow"/> at a time; when one is refused, those already sent may still commit.
    /// </summary>
    internal async Task<ReconcileOutcome> CommitAsync(LeadershipTerm term, ReconcilePass pass, CancellationToken cancellationToken)
    {
        var committed = 0;
        var sequential = pass.Independent ? pass.VersionTransactions : pass.Transactions.Count;
        TxnResult? refused = null;
        for (var i = 0; i < sequential && refused is null; i++)
        {
            var result = await _state.Store.TxnAsync(pass.Transactions[i], cancellationToken).ConfigureAwait(false);
            refused = Accept(result, ref committed);
        }
        var inFlight = new Queue<Task<TxnResult>>(CommitWindow);
        var next = sequential;
        try
        {
            while (refused is null && (next < pass.Transactions.Count || inFlight.Count > 0))
            {
                while (next < pass.Transactions.Count && inFlight.Count < CommitWindow)
                {
                    inFlight.Enqueue(_state.Store.TxnAsync(pass.Transactions[next++], cancellationToken));
                }
                refused = Accept(await inFlight.Dequeue().ConfigureAwait(false), ref committed);
            }
        }
        finally
        {
            // Nothing more is sent once one is refused or failed; what was sent is waited for and counted.
            while (inFlight.TryDequeue(out var sent))
            {
                try
                {
                    var result = await sent.ConfigureAwait(false);
                    if (result.Succeeded)
                    {
                        Accept(result, ref committed);
                    }
                }
                catch (Exception e) when (e is StoreException or IOException or HttpRequestException or OperationCanceledException)
                {
                }
            }
        }
        if (refused is not null)
        {
            var leaderKey = refused.Results is [TxnOpResult.Range read] ? read.Result.Kvs : [];
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
        if (pass.Transactions.Count > 0)
        {
            ControllersLog.Reconciled(_logger, pass.Snapshot.Revision, pass.Placed, pass.Pending, pass.Stopping, pass.Deleted, pass.Lost, committed, pass.Transactions.Count);
        }
        return Outcome(pass, committed, stale: false, leadershipLost: false);
    }

    /// <summary>Counts a committed transaction (and keeps its revision from waking the loop); returns a refused one.</summary>
    private TxnResult? Accept(TxnResult result, ref int committed)
    {
        if (!result.Succeeded)
        {
            return result;
        }
        _ownRevisions.TryAdd(result.Revision, 0);
        committed++;
        return null;
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
