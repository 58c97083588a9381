namespace Corral.Store;

/// <summary>Timing of a campaign for leadership.</summary>
public sealed record ElectionOptions
{
    /// <value>
    /// TTL of the lease that backs the leadership: after a leader stops renewing it, another contender can lead
    /// no sooner than this. Whole seconds, at least 1. Default 5 s.
    /// </value>
    public TimeSpan Ttl { get; init; } = TimeSpan.FromSeconds(5);

    /// <value>How often the lease is renewed. Must be less than a third of <see cref="Ttl"/>. Default <c>Ttl / 5</c>.</value>
    public TimeSpan? RenewInterval { get; init; }

    /// <value>
    /// How long before the lease could expire (measured from when the last acknowledged renewal was sent) the
    /// leader gives up its token when renewals stop being acknowledged. Default <c>Ttl / 5</c>, at least 200 ms.
    /// </value>
    public TimeSpan? StepDownMargin { get; init; }

    /// <summary><see cref="RenewInterval"/>, or its default when not set (a fifth of the TTL the lease is granted with).</summary>
    public TimeSpan EffectiveRenewInterval => RenewInterval ?? GrantedTtl / 5;

    /// <summary>
    /// <see cref="StepDownMargin"/>, or its default when not set (a fifth of the TTL the lease is granted with, at least
    /// 200 ms). The one place the default is decided: the election and work bounded by its deadline use the same.
    /// </summary>
    public TimeSpan EffectiveStepDownMargin => StepDownMargin ?? TimeSpan.FromTicks(Math.Max(GrantedTtl.Ticks / 5, TimeSpan.FromMilliseconds(200).Ticks));

    /// <summary>The TTL the lease is granted with: <see cref="Ttl"/> rounded up to whole seconds.</summary>
    public TimeSpan GrantedTtl => TimeSpan.FromSeconds(Math.Ceiling(Ttl.TotalSeconds));

    public static ElectionOptions Default { get; } = new();
}

/// <summary>Who leads an election right now.</summary>
/// <param name="Election">The election's name.</param>
/// <param name="Value">The value the leader campaigned (or last proclaimed) with.</param>
/// <param name="LeaseId">The lease that backs the leadership.</param>
/// <param name="Revision">The create revision of the leader's key: increases with every new term.</param>
public sealed record LeaderInfo(string Election, ReadOnlyMemory<byte> Value, long LeaseId, long Revision)
{
    public string ValueString => System.Text.Encoding.UTF8.GetString(Value.Span);
}

/// <summary>
/// Leadership won by <see cref="IClusterStore.CampaignAsync"/>. Leader-only work runs under <see cref="Token"/>.
/// </summary>
public interface ILeadership : IAsyncDisposable
{
    /// <summary>Who this leadership is: the election, the value, the lease and the term (revision).</summary>
    LeaderInfo Leader { get; }

    /// <summary>
    /// Cancelled when leadership is lost: resigned, the lease was revoked or expired, the leader key was deleted
    /// or replaced, or no renewal was acknowledged for <c>Ttl - StepDownMargin</c> (the store unreachable) —
    /// in that last case strictly before the store can expire the lease and let another contender win.
    /// Once cancelled it never resets; campaign again for a new term.
    /// </summary>
    CancellationToken Token { get; }

    /// <summary>
    /// The moment <see cref="Token"/> is cancelled unless a later renewal is acknowledged first: when the last
    /// acknowledged renewal (before the first one, the lease grant) was <em>sent</em>, plus <c>Ttl - StepDownMargin</c>,
    /// on the clock (<see cref="TimeProvider.GetUtcNow"/>) of the <see cref="TimeProvider"/> the store was given. The
    /// store cannot expire the lease, and let another contender lead, before <c>StepDownMargin</c> after it. Work that
    /// must end with the leadership by itself, even if this process stops running (the VIP's kernel lifetime), is
    /// bounded by it.
    /// </summary>
    DateTimeOffset StepDownDeadline { get; }

    /// <summary>
    /// <see cref="StepDownDeadline"/> at once, then each later one as renewals are acknowledged (only the latest when
    /// several came while the caller was busy), until leadership is lost (the sequence ends) or
    /// <paramref name="cancellationToken"/> is cancelled. A deadline may already be past when it is read: an
    /// acknowledgement can be processed long after its renewal was sent (a process stopped and continued).
    /// </summary>
    IAsyncEnumerable<DateTimeOffset> ObserveStepDownDeadlineAsync(CancellationToken cancellationToken = default);

    /// <summary>Gives up leadership at once (deletes the leader key and revokes its lease). Idempotent.</summary>
    Task ResignAsync(CancellationToken cancellationToken = default);
}
