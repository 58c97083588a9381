using Corral.Server.Leadership;
using Corral.Server.State;
using Corral.Store;
using Microsoft.Extensions.Logging;

namespace Corral.Server.Logs;

/// <summary>
/// Leader-only: keeps the stored logs within <see cref="LogRetentionOptions"/>: deletes every chunk whose newest line is
/// older than <see cref="LogRetentionOptions.MaxAge"/>, then the oldest chunks (by newest line) until the rest fit in
/// <see cref="LogRetentionOptions.MaxBytes"/>. A pass reads only the keys, plus the values of chunks it has not seen at
/// their current revision (chunks are written once and overwritten only by a resend of themselves).
/// </summary>
public sealed class LogRetentionController : ILeaderController
{
    private const int PageSize = 1000;
    private const int DeletesPerTxn = 100;

    private readonly IClusterStore _store;
    private readonly LogRetentionOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<LogRetentionController> _logger;
    private readonly Dictionary<string, (long ModRevision, long Bytes, DateTimeOffset Newest)> _seen = new(StringComparer.Ordinal);

    public LogRetentionController(ClusterState state, LogRetentionOptions options, TimeProvider time, ILogger<LogRetentionController> logger)
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
    public string Name => "log-retention";

    /// <inheritdoc />
    public Task EstablishAsync(LeadershipTerm term, CancellationToken cancellationToken)
    {
        _seen.Clear();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task RunAsync(LeadershipTerm term, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await EnforceOnceAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is StoreException or IOException or HttpRequestException)
            {
                LogsLog.PassFailed(_logger, e);
            }
            await Task.Delay(_options.Interval, _time, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <inheritdoc />
    public Task RevokeAsync(CancellationToken cancellationToken)
    {
        _seen.Clear();
        return Task.CompletedTask;
    }

    /// <summary>One pass; returns how many chunks it deleted.</summary>
    public async Task<int> EnforceOnceAsync(CancellationToken cancellationToken)
    {
        var chunks = new List<(string Key, long Bytes, DateTimeOffset Newest)>();
        var present = new HashSet<string>(StringComparer.Ordinal);
        long revision = 0;
        string? after = null;
        while (true)
        {
            var page = await _store.RangeAsync(Keys.Logs, new RangeOptions { Limit = PageSize, Revision = revision, After = after, KeysOnly = true }, cancellationToken).ConfigureAwait(false);
            revision = page.Revision;
            foreach (var kv in page.Kvs)
            {
                present.Add(kv.Key);
                if (!_seen.TryGetValue(kv.Key, out var known) || known.ModRevision != kv.ModRevision)
                {
                    var full = await _store.GetAsync(kv.Key, cancellationToken).ConfigureAwait(false);
                    if (full is null)
                    {
                        continue;
                    }
                    var newest = LogStore.Decode(full)?.Lines.LastOrDefault()?.Time ?? _time.GetUtcNow();
                    known = (full.ModRevision, full.Value.Length, newest);
                    _seen[kv.Key] = known;
                }
                chunks.Add((kv.Key, known.Bytes, known.Newest));
            }
            if (!page.More || page.Kvs.Count == 0)
            {
                break;
            }
            after = page.Kvs[^1].Key;
        }
        foreach (var gone in _seen.Keys.Where(k => !present.Contains(k)).ToList())
        {
            _seen.Remove(gone);
        }

        var cutoff = _time.GetUtcNow() - _options.MaxAge;
        var doomed = new List<(string Key, long Bytes)>();
        var total = chunks.Sum(c => c.Bytes);
        foreach (var chunk in chunks.OrderBy(c => c.Newest).ThenBy(c => c.Key, StringComparer.Ordinal))
        {
            if (chunk.Newest >= cutoff && total <= _options.MaxBytes)
            {
                break;
            }
            doomed.Add((chunk.Key, chunk.Bytes));
            total -= chunk.Bytes;
        }
        for (var i = 0; i < doomed.Count; i += DeletesPerTxn)
        {
            var ops = doomed.Skip(i).Take(DeletesPerTxn).Select(d => (TxnOp)new TxnOp.Delete(d.Key)).ToList();
            await _store.TxnAsync(new Txn([], ops, []), cancellationToken).ConfigureAwait(false);
        }
        foreach (var (key, _) in doomed)
        {
            _seen.Remove(key);
        }
        if (doomed.Count > 0)
        {
            LogsLog.Pruned(_logger, doomed.Count, doomed.Sum(d => d.Bytes), chunks.Count - doomed.Count, total);
        }
        return doomed.Count;
    }
}
