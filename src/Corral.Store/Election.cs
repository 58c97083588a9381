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

    /// <summary>Gives up leadership at once (deletes the leader key and revokes its lease). Idempotent.</summary>
    Task ResignAsync(CancellationToken cancellationToken = default);
}
