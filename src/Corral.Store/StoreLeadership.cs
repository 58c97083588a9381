using System.Runtime.CompilerServices;

namespace Corral.Store;

/// <summary>
/// A candidacy that became (or may become) leadership: owns the lease, renews it, and cancels <see cref="Token"/>
/// on the first sign that leadership is lost. Created only by <see cref="StoreElection"/>.
/// </summary>
internal sealed class StoreLeadership : ILeadership
{
    private readonly IClusterStore _store;
    private readonly TimeProvider _time;
    private readonly string _election;
    private readonly LeaseGrant _grant;
    private readonly StoreElection.Timing _timing;
    private readonly CancellationTokenSource _lost = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly ITimer _deadline;
    private readonly Lock _gate = new();
    private Task _renewing = Task.CompletedTask;
    private Task _watching = Task.CompletedTask;
    private LeaderInfo? _leader;
    private string? _lossReason;
    private DateTimeOffset _stepDownDeadline;
    private TaskCompletionSource _deadlineMoved = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _disposed;

    public StoreLeadership(IClusterStore store, TimeProvider time, string election, string key, LeaseGrant grant, StoreElection.Timing timing)
    {
        _store = store;
        _time = time;
        _election = election;
        Key = key;
        _grant = grant;
        _timing = timing;
        _deadline = time.CreateTimer(_ => Lose("no lease renewal acknowledged in time (store unreachable?)"), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public string Key { get; }

    public LeaderInfo Leader => _leader ?? throw new InvalidOperationException("not elected yet");

    public CancellationToken Token => _lost.Token;

    public string LossReason => _lossReason ?? "not lost";

    public DateTimeOffset StepDownDeadline
    {
        get
        {
            lock (_gate)
            {
                return _stepDownDeadline;
            }
        }
    }

    public async IAsyncEnumerable<DateTimeOffset> ObserveStepDownDeadlineAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        DateTimeOffset? last = null;
        while (true)
        {
            var (deadline, moved, lost) = ReadDeadline();
            if (lost)
            {
                yield break;
            }
            if (deadline != last)
            {
                last = deadline;
                yield return deadline;
            }
            await moved.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Starts renewing the lease. The deadline counts from <paramref name="grantSentAt"/>, when the grant request was
    /// sent: the store cannot have granted the lease, and started its TTL, any earlier. (Counting from when the answer
    /// arrived is not safe: a lagging member may answer long after the leader granted it.)
    /// </summary>
    public void StartRenewing(DateTimeOffset grantSentAt)
    {
        ArmDeadline(grantSentAt);
        _renewing = Task.Run(() => RenewLoopAsync(_stop.Token));
    }

    public void Elected(LeaderInfo leader)
    {
        _leader = leader;
        _watching = Task.Run(() => WatchOwnKeyAsync(leader.Revision, _stop.Token));
    }

    public async Task ResignAsync(CancellationToken cancellationToken = default)
    {
        Lose("resigned");
        try
        {
            await _store.TxnAsync(
                Txn.If(Compare.LeaseOf(Key, CompareOp.Equal, _grant.Id)).Then(new TxnOp.Delete(Key)),
                cancellationToken).ConfigureAwait(false);
            await _store.RevokeLeaseAsync(_grant.Id, cancellationToken).ConfigureAwait(false);
        }
        catch (LeaseNotFoundException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await ResignAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is StoreException or OperationCanceledException or ObjectDisposedException)
        {
            // The lease expires by itself; nothing else can be done for an unreachable store.
        }
        await _stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_renewing, _watching).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _deadline.DisposeAsync().ConfigureAwait(false);
        _lost.Dispose();
        _stop.Dispose();
    }

    private (DateTimeOffset Deadline, Task Moved, bool Lost) ReadDeadline()
    {
        lock (_gate)
        {
            return (_stepDownDeadline, _deadlineMoved.Task, _lossReason is not null);
        }
    }

    /// <summary>
    /// Moves the step-down deadline to <paramref name="sentAt"/> + TTL - margin (the timer that cancels the token, and
    /// the deadline observers see) and wakes the observers. A deadline already past fires the timer at once.
    /// </summary>
    private void ArmDeadline(DateTimeOffset sentAt)
    {
        var deadline = sentAt + _grant.Ttl - _timing.StepDownMargin;
        var due = deadline - _time.GetUtcNow();
        TaskCompletionSource moved;
        lock (_gate)
        {
            if (_lossReason is not null)
            {
                return;
            }
            _deadline.Change(due > TimeSpan.Zero ? due : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
            _stepDownDeadline = deadline;
            moved = _deadlineMoved;
            _deadlineMoved = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        moved.TrySetResult();
    }

    private void Lose(string reason)
    {
        lock (_gate)
        {
            if (_lossReason is not null)
            {
                return;
            }
            _lossReason = reason;
            _deadline.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            // Observers of the deadline see the loss and end.
            _deadlineMoved.TrySetResult();
        }
        // Stop renewing first: a lease renewed after the token fired would keep others from leading.
        _stop.Cancel();
        _lost.Cancel();
    }

    private async Task RenewLoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_timing.RenewInterval, _time, cancellationToken).ConfigureAwait(false);
                var sentAt = _time.GetUtcNow();
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                attempt.CancelAfter(_timing.RenewAttemptTimeout);
                await _store.KeepAliveOnceAsync(_grant.Id, attempt.Token).ConfigureAwait(false);
                ArmDeadline(sentAt);
            }
            catch (LeaseNotFoundException)
            {
                Lose("the lease expired or was revoked");
                return;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is StoreException or OperationCanceledException or HttpRequestException or IOException)
            {
                // Keep trying until the deadline timer decides; a transient failure must not end leadership early.
            }
        }
    }

    private async Task WatchOwnKeyAsync(long revision, CancellationToken cancellationToken)
    {
        var from = revision + 1;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await foreach (var batch in _store.WatchAsync(Key, from, cancellationToken).ConfigureAwait(false))
                {
                    from = batch.Revision + 1;
                    foreach (var e in batch.Events.Where(e => e.Kv.Key == Key))
                    {
                        if (e.Type == WatchEventType.Delete)
                        {
                            Lose("the leader key was deleted (lease expired or revoked, or removed by an operator)");
                            return;
                        }
                        if (e.Kv.Lease != _grant.Id)
                        {
                            Lose("the leader key was replaced by another writer");
                            return;
                        }
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (StoreCompactedException)
            {
                var current = await SafeGetAsync(cancellationToken).ConfigureAwait(false);
                if (current is null || current.Lease != _grant.Id)
                {
                    Lose("the leader key is gone");
                    return;
                }
                from = current.ModRevision + 1;
            }
            catch (Exception e) when (e is StoreException or HttpRequestException or IOException)
            {
                // The deadline timer covers an unreachable store; retry the watch shortly.
                await Task.Delay(TimeSpan.FromMilliseconds(100), _time, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private async Task<KeyValue?> SafeGetAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _store.GetAsync(Key, cancellationToken).ConfigureAwait(false);
        }
        catch (StoreException)
        {
            return null;
        }
    }

    public override string ToString() => $"leadership of '{_election}' (lease {_grant.Id}, key {Key})";
}
