using System.Globalization;
using Corral.Store;

namespace Corral.Server.Leadership;

/// <summary>
/// One term of leadership held by this server: the token leader-only work runs under, and the compare that makes a
/// transaction commit only while the term lasts.
/// </summary>
public sealed class LeadershipTerm
{
    /// <summary>Wraps leadership won by <see cref="IClusterStore.CampaignAsync"/> with <paramref name="serverName"/> as its value.</summary>
    public LeadershipTerm(ILeadership leadership, string serverName)
    {
        Leadership = leadership ?? throw new ArgumentNullException(nameof(leadership));
        ArgumentException.ThrowIfNullOrEmpty(serverName);
        ServerName = serverName;
        var leader = leadership.Leader;
        Token = leadership.Token;
        LeaseId = leader.LeaseId;
        Term = leader.Revision;
        Key = StoreElection.KeyPrefix + leader.Election + "/" + leader.LeaseId.ToString("x16", CultureInfo.InvariantCulture);
    }

    /// <summary>The store's leadership object (resign through it).</summary>
    public ILeadership Leadership { get; }

    /// <summary>This server's name.</summary>
    public string ServerName { get; }

    /// <summary>The lease that backs the leadership.</summary>
    public long LeaseId { get; }

    /// <summary>The term: the create revision of the leader key; a later term has a larger one.</summary>
    public long Term { get; }

    /// <summary>The leader's own election key, attached to <see cref="LeaseId"/> while the term lasts.</summary>
    public string Key { get; }

    /// <summary>
    /// Cancelled when the term ends (see <see cref="ILeadership.Token"/>); never reset. Captured when the term began, so
    /// it stays readable after the leadership object is disposed.
    /// </summary>
    public CancellationToken Token { get; }

    /// <summary>
    /// When this term ends unless a later lease renewal is acknowledged first: the send time of the last acknowledged
    /// renewal (or of the lease grant) plus the lease TTL minus the step-down margin — the moment <see cref="Token"/> is
    /// cancelled at the latest while the store does not answer (<see cref="ILeadership.StepDownDeadline"/>). Work that
    /// must end with the term even when this process cannot act (the VIP's kernel lifetime) is bounded by it.
    /// </summary>
    public DateTimeOffset StepDownDeadline => Leadership.StepDownDeadline;

    /// <summary>
    /// <see cref="StepDownDeadline"/> now and after each acknowledged renewal (the latest only, when several came
    /// meanwhile), until the term ends or <paramref name="cancellationToken"/> is cancelled. A deadline may be past when
    /// it arrives (the process was stopped while the renewal's answer waited): check it against the clock.
    /// </summary>
    public IAsyncEnumerable<DateTimeOffset> ObserveStepDownDeadlineAsync(CancellationToken cancellationToken) =>
        Leadership.ObserveStepDownDeadlineAsync(cancellationToken);

    /// <summary>The actor recorded in events written by leader-only work: <c>leader:NAME</c>.</summary>
    public string Actor => "leader:" + ServerName;

    /// <summary>
    /// A compare that holds only while this term lasts: the leader key still exists and is still attached to this
    /// term's lease. Put it in every transaction a controller commits, so a deposed leader can never commit.
    /// </summary>
    public Compare StillLeading() => Compare.LeaseOf(Key, CompareOp.Equal, LeaseId);

    public override string ToString() => $"{ServerName} term {Term} (lease {LeaseId:x16})";
}
