using System.Runtime.CompilerServices;

namespace Corral.Store;

/// <summary>
/// Leader election over the store's own primitives (leases, transactions, watches), the way etcd's
/// <c>concurrency.Election</c> does it, so that every backend elects identically.
/// </summary>
/// <remarks>
/// Each contender puts <c>/corral/election/NAME/LEASEID</c> attached to its own lease; the key with the lowest create
/// revision leads. A contender waits for the deletion of the key just before its own, then checks again.
/// A leader renews its lease every <see cref="ElectionOptions.RenewInterval"/>; it gives up its token when the lease is
/// gone, its key is gone or replaced, or when no renewal has been acknowledged for <c>Ttl - StepDownMargin</c>,
/// counted from when the last acknowledged renewal was sent: the store cannot expire the lease before
/// <c>Ttl</c> after it received that renewal, so the token is cancelled before anyone else can lead.
/// </remarks>
public sealed class StoreElection
{
    /// <summary>Prefix under which every election keeps its contenders' keys.</summary>
    public const string KeyPrefix = "/corral/election/";

    private readonly IClusterStore _store;
    private readonly TimeProvider _time;

    public StoreElection(IClusterStore store, TimeProvider time)
    {
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _time = time ?? throw new ArgumentNullException(nameof(time));
    }

    /// <summary>See <see cref="IClusterStore.CampaignAsync"/>.</summary>
    public async Task<ILeadership> CampaignAsync(string election, ReadOnlyMemory<byte> value, ElectionOptions? options = null, CancellationToken cancellationToken = default)
    {
        var prefix = PrefixOf(election);
        var timing = Timing.From(options ?? ElectionOptions.Default);
        StoreLimits.ValidateValue(value);

        var grantSentAt = _time.GetUtcNow();
        var grant = await _store.GrantLeaseAsync(timing.Ttl, cancellationToken).ConfigureAwait(false);
        var leadership = new StoreLeadership(_store, _time, election, prefix + grant.Id.ToString("x16", System.Globalization.CultureInfo.InvariantCulture), grant, timing);
        try
        {
            // The lease is renewed from the start, so a long wait behind another leader does not let it lapse.
            leadership.StartRenewing(grantSentAt);
            var key = leadership.Key;
            var put = await _store.TxnAsync(
                Txn.If(Compare.Missing(key)).Then(new TxnOp.Put(key, value, grant.Id)).Else(new TxnOp.Get(key)),
                cancellationToken).ConfigureAwait(false);
            var myRevision = put.Revision;
            if (!put.Succeeded)
            {
                throw new StoreException($"election '{election}': key {key} already exists for a fresh lease");
            }

            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, leadership.Token);
            await WaitForTurnAsync(election, prefix, myRevision, linked.Token).ConfigureAwait(false);
            leadership.Elected(new LeaderInfo(election, value, grant.Id, myRevision));
            return leadership;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && leadership.Token.IsCancellationRequested)
        {
            await leadership.DisposeAsync().ConfigureAwait(false);
            throw new StoreException($"election '{election}': the candidacy's lease was lost while waiting to lead ({leadership.LossReason})");
        }
        catch
        {
            await leadership.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The current leader, or null when nobody leads.</summary>
    public async Task<LeaderInfo?> GetLeaderAsync(string election, CancellationToken cancellationToken = default)
    {
        var prefix = PrefixOf(election);
        var (leader, _) = await ReadLeaderAsync(election, prefix, cancellationToken).ConfigureAwait(false);
        return leader;
    }

    /// <summary>The current leader at once, then each change, until cancelled.</summary>
    public async IAsyncEnumerable<LeaderInfo?> ObserveLeaderAsync(string election, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var prefix = PrefixOf(election);
        var (leader, revision) = await ReadLeaderAsync(election, prefix, cancellationToken).ConfigureAwait(false);
        yield return leader;
        while (!cancellationToken.IsCancellationRequested)
        {
            await foreach (var batch in _store.WatchAsync(prefix, revision + 1, cancellationToken).ConfigureAwait(false))
            {
                revision = batch.Revision;
                var (next, _) = await ReadLeaderAsync(election, prefix, cancellationToken).ConfigureAwait(false);
                if (!SameLeader(leader, next))
                {
                    leader = next;
                    yield return leader;
                }
            }
        }
    }

    internal static string PrefixOf(string election)
    {
        ArgumentException.ThrowIfNullOrEmpty(election);
        if (election.Contains('/', StringComparison.Ordinal))
        {
            throw new ArgumentException($"election name '{election}' must not contain '/'", nameof(election));
        }
        var prefix = KeyPrefix + election + "/";
        StoreLimits.ValidateKey(prefix + new string('0', 16), nameof(election));
        return prefix;
    }

    private static bool SameLeader(LeaderInfo? a, LeaderInfo? b) =>
        a is null ? b is null : b is not null && a.Revision == b.Revision && a.LeaseId == b.LeaseId && a.Value.Span.SequenceEqual(b.Value.Span);

    private async Task<(LeaderInfo? Leader, long Revision)> ReadLeaderAsync(string election, string prefix, CancellationToken cancellationToken)
    {
        var range = await _store.RangeAsync(prefix, null, cancellationToken).ConfigureAwait(false);
        var first = range.Kvs.MinBy(kv => kv.CreateRevision);
        return (first is null ? null : new LeaderInfo(election, first.Value, first.Lease, first.CreateRevision), range.Revision);
    }

    private async Task WaitForTurnAsync(string election, string prefix, long myRevision, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var range = await _store.RangeAsync(prefix, new RangeOptions { KeysOnly = true }, cancellationToken).ConfigureAwait(false);
            if (!range.Kvs.Any(kv => kv.CreateRevision == myRevision))
            {
                throw new StoreException($"election '{election}': this candidacy's key vanished while waiting (lease expired or revoked)");
            }
            var ahead = range.Kvs.Where(kv => kv.CreateRevision < myRevision).MaxBy(kv => kv.CreateRevision);
            if (ahead is null)
            {
                return;
            }
            await WaitForDeleteAsync(ahead.Key, range.Revision + 1, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task WaitForDeleteAsync(string key, long fromRevision, CancellationToken cancellationToken)
    {
        await foreach (var batch in _store.WatchAsync(key, fromRevision, cancellationToken).ConfigureAwait(false))
        {
            if (batch.Events.Any(e => e.Type == WatchEventType.Delete && e.Kv.Key == key))
            {
                return;
            }
        }
    }

    internal sealed record Timing(TimeSpan Ttl, TimeSpan RenewInterval, TimeSpan StepDownMargin)
    {
        /// <summary>
        /// How long one renewal may wait for its answer before the next is sent: half the time that unanswered
        /// renewals are allowed (<c>Ttl - StepDownMargin - RenewInterval</c>), at least one renew interval. A renewal
        /// that went to a member which forwards it to a leader that is gone (etcd holds a forwarded renewal for its
        /// whole request timeout) must not keep the next one, which the new leader would answer, from being sent
        /// before the step-down deadline.
        /// </summary>
        public TimeSpan RenewAttemptTimeout => TimeSpan.FromTicks(Math.Max(RenewInterval.Ticks, (Ttl - StepDownMargin - RenewInterval).Ticks / 2));

        public static Timing From(ElectionOptions options)
        {
            var seconds = StoreLimits.ValidateTtl(options.Ttl, "options.Ttl");
            var ttl = TimeSpan.FromSeconds(seconds);
            var renew = options.EffectiveRenewInterval;
            var margin = options.EffectiveStepDownMargin;
            var errors = new List<string>();
            if (renew <= TimeSpan.Zero || renew * 3 > ttl)
            {
                errors.Add($"RenewInterval {renew.TotalMilliseconds} ms must be positive and at most a third of Ttl ({ttl.TotalSeconds} s), so a renewal can fail twice before the lease is at risk");
            }
            if (margin <= TimeSpan.Zero || margin >= ttl - renew)
            {
                errors.Add($"StepDownMargin {margin.TotalMilliseconds} ms must be positive and less than Ttl - RenewInterval ({(ttl - renew).TotalMilliseconds} ms)");
            }
            if (errors.Count > 0)
            {
                throw new ArgumentException("invalid election options: " + string.Join("; ", errors), nameof(options));
            }
            return new Timing(ttl, renew, margin);
        }
    }
}
