using System.Globalization;
using Corral.Server.Leadership;
using Corral.Server.State;
using Corral.Store;
using Microsoft.Extensions.Logging;

namespace Corral.Server.Controllers;

/// <summary>
/// Leader-only: keeps the event log within <see cref="EventRetentionOptions"/>: deletes every event older than
/// <see cref="EventRetentionOptions.MaxAge"/>, then the oldest events until at most
/// <see cref="EventRetentionOptions.MaxCount"/> are left. Event keys sort by time, so a pass reads only the keys it
/// deletes (and one count), never the whole log; it deletes in transactions of <see cref="DeletesPerTxn"/> keys (below
/// etcd's default of 128 operations per transaction), each guarded by the leader's key, and at most
/// <see cref="MaxDeletesPerPass"/> keys per pass, so a huge backlog is worked off over a few passes.
/// </summary>
public sealed class EventRetentionController : ILeaderController
{
    public const int DeletesPerTxn = 100;
    public const int MaxDeletesPerPass = 20_000;

    private readonly IClusterStore _store;
    private readonly EventRetentionOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<EventRetentionController> _logger;

    public EventRetentionController(ClusterState state, EventRetentionOptions options, TimeProvider time, ILogger<EventRetentionController> logger)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(options);
        options.ThrowIfInvalid();
        _store = state.Store;
        _options = options;
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    /// <inheritdoc />
    public string Name => "event-retention";

    /// <inheritdoc />
    public Task EstablishAsync(LeadershipTerm term, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public async Task RunAsync(LeadershipTerm term, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(term);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await EnforceOnceAsync(term.StillLeading(), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is StoreException or IOException or HttpRequestException)
            {
                ControllersLog.EventRetentionFailed(_logger, e);
            }
            await Task.Delay(_options.Interval, _time, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <inheritdoc />
    public Task RevokeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// One pass; returns how many events it deleted. Every delete transaction carries <paramref name="guard"/> (the
    /// leader's "still leading" compare; null for none): a refused one ends the pass.
    /// </summary>
    public async Task<int> EnforceOnceAsync(Compare? guard, CancellationToken cancellationToken)
    {
        var cutoff = _time.GetUtcNow() - _options.MaxAge;
        var cutoffKey = Keys.Events + Math.Max(0, cutoff.ToUnixTimeMilliseconds()).ToString("D15", CultureInfo.InvariantCulture);
        var (byAge, refused) = await DeleteOldestAsync(cutoffKey, long.MaxValue, guard, cancellationToken).ConfigureAwait(false);

        var count = (await _store.RangeAsync(Keys.Events, new RangeOptions { Limit = 1, KeysOnly = true }, cancellationToken).ConfigureAwait(false)).Count;
        var byCount = 0;
        if (count > _options.MaxCount && !refused)
        {
            (byCount, _) = await DeleteOldestAsync(null, count - _options.MaxCount, guard, cancellationToken).ConfigureAwait(false);
        }
        if (byAge + byCount > 0)
        {
            ControllersLog.EventsPruned(_logger, byAge, byCount, count - byCount);
        }
        return byAge + byCount;
    }

    /// <summary>
    /// Deletes up to <paramref name="most"/> of the oldest events (only those with keys below <paramref name="before"/>
    /// when given), oldest first; returns how many, and whether the guard refused a transaction.
    /// </summary>
    private async Task<(int Deleted, bool Refused)> DeleteOldestAsync(string? before, long most, Compare? guard, CancellationToken cancellationToken)
    {
        var deleted = 0;
        while (deleted < most && deleted < MaxDeletesPerPass)
        {
            var take = (int)Math.Min(DeletesPerTxn, Math.Min(most - deleted, MaxDeletesPerPass - deleted));
            var page = await _store.RangeAsync(Keys.Events, new RangeOptions { Limit = take, Before = before, KeysOnly = true }, cancellationToken).ConfigureAwait(false);
            if (page.Kvs.Count == 0)
            {
                break;
            }
            var ops = page.Kvs.Select(kv => (TxnOp)new TxnOp.Delete(kv.Key)).ToList();
            var result = await _store.TxnAsync(new Txn(guard is null ? [] : [guard], ops, []), cancellationToken).ConfigureAwait(false);
            if (!result.Succeeded)
            {
                return (deleted, true);
            }
            deleted += page.Kvs.Count;
            if (!page.More)
            {
                break;
            }
        }
        return (deleted, false);
    }
}
