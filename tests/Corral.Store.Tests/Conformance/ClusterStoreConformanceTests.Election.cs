using System.Collections.Concurrent;
using System.Diagnostics;

namespace Corral.Store.Tests.Conformance;

public abstract partial class ClusterStoreConformanceTests
{
    protected static readonly ElectionOptions ShortElection = new() { Ttl = TimeSpan.FromSeconds(2) };

    protected static string NewElection() => "conformance-" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task Election_ThreeContenders_ExactlyOneLeadsAtAnyTimeAcrossHandovers()
    {
        const int Terms = 6;
        await using var store = await CreateStoreAsync();
        var election = NewElection();
        using var done = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var holders = 0;
        var violations = new ConcurrentQueue<string>();
        var terms = new ConcurrentQueue<(long Started, string Who, long Revision)>();
        var termCount = 0;

        async Task ContendAsync(string who)
        {
            while (!done.IsCancellationRequested)
            {
                ILeadership leadership;
                try
                {
                    leadership = await store.CampaignAsync(election, Bytes(who), ShortElection, done.Token);
                }
                catch (OperationCanceledException) when (done.IsCancellationRequested)
                {
                    return;
                }
                await using (leadership)
                {
                    var started = Stopwatch.GetTimestamp();
                    if (Interlocked.Increment(ref holders) != 1)
                    {
                        violations.Enqueue($"{who} became leader (term {leadership.Leader.Revision}) while another contender still held its token");
                    }
                    terms.Enqueue((started, who, leadership.Leader.Revision));
                    var leader = await store.GetLeaderAsync(election, CancellationToken.None);
                    if (leader is null || leader.ValueString != who || leader.Revision != leadership.Leader.Revision)
                    {
                        violations.Enqueue($"{who} leads term {leadership.Leader.Revision} but GetLeader says {leader?.ValueString}@{leader?.Revision}");
                    }
                    await Task.Delay(100, CancellationToken.None);
                    if (leadership.Token.IsCancellationRequested)
                    {
                        violations.Enqueue($"{who} lost term {leadership.Leader.Revision} without resigning");
                    }
                    Interlocked.Decrement(ref holders);
                    await leadership.ResignAsync(CancellationToken.None);
                    Assert.True(leadership.Token.IsCancellationRequested);
                }
                if (Interlocked.Increment(ref termCount) >= Terms)
                {
                    await done.CancelAsync();
                }
                // Let the others take a turn before campaigning again.
                await Task.Delay(20, CancellationToken.None);
            }
        }

        await Task.WhenAll(new[] { "alpha", "beta", "gamma" }.Select(who => Task.Run(() => ContendAsync(who))));
        Assert.Empty(violations);
        var ordered = terms.OrderBy(t => t.Started).ToList();
        Assert.True(ordered.Count >= Terms, $"only {ordered.Count} terms in 2 minutes");
        for (var i = 1; i < ordered.Count; i++)
        {
            Assert.True(ordered[i].Revision > ordered[i - 1].Revision, $"term {i} ({ordered[i].Who}@{ordered[i].Revision}) started after {ordered[i - 1].Who}@{ordered[i - 1].Revision}");
        }
        Assert.True(ordered.Select(t => t.Who).Distinct().Count() >= 2, "leadership never changed hands");
        Assert.Null(await store.GetLeaderAsync(election));
    }

    [Fact]
    public async Task Election_Resign_HandsOverToTheWaitingContender()
    {
        await using var store = await CreateStoreAsync();
        var election = NewElection();
        var first = await store.CampaignAsync(election, Bytes("first"), ShortElection, Timeout());
        var secondTask = store.CampaignAsync(election, Bytes("second"), ShortElection, Timeout());
        await WaitForContendersAsync(store, election, 2);
        Assert.False(secondTask.IsCompleted);
        Assert.Equal("first", (await store.GetLeaderAsync(election))!.ValueString);

        await first.ResignAsync();
        Assert.True(first.Token.IsCancellationRequested);
        await using var second = await secondTask;
        Assert.Equal("second", second.Leader.ValueString);
        Assert.True(second.Leader.Revision > first.Leader.Revision);
        Assert.False(second.Token.IsCancellationRequested);
        var leader = await store.GetLeaderAsync(election);
        Assert.Equal("second", leader!.ValueString);
        Assert.Equal(second.Leader.LeaseId, leader.LeaseId);
        await first.DisposeAsync();
    }

    [Fact]
    public async Task Election_LeaderLeaseRevoked_LosesItsTokenAndTheNextContenderLeads()
    {
        await using var store = await CreateStoreAsync();
        var election = NewElection();
        await using var first = await store.CampaignAsync(election, Bytes("first"), ShortElection, Timeout());
        var secondTask = store.CampaignAsync(election, Bytes("second"), ShortElection, Timeout());
        await WaitForContendersAsync(store, election, 2);

        await store.RevokeLeaseAsync(first.Leader.LeaseId);
        await WaitForAsync(() => first.Token.IsCancellationRequested, "the revoked leader's token to be cancelled");
        await using var second = await secondTask;
        Assert.Equal("second", second.Leader.ValueString);
        Assert.False(second.Token.IsCancellationRequested);
    }

    [Fact]
    public async Task Election_LeaderKeepAlivesNotAcknowledged_LosesItsTokenBeforeAnotherContenderIsElected()
    {
        await using var store = await CreateStoreAsync();
        var flaky = new KeepAliveSwitchStore(store);
        var election = NewElection();
        await using var first = await new StoreElection(flaky, TimeProvider.System).CampaignAsync(election, Bytes("first"), ShortElection, Timeout());
        long? lostAt = null;
        using var onLost = first.Token.Register(() => lostAt = Stopwatch.GetTimestamp());
        var secondTask = store.CampaignAsync(election, Bytes("second"), ShortElection, Timeout());
        await WaitForContendersAsync(store, election, 2);

        var cutAt = Stopwatch.GetTimestamp();
        flaky.FailKeepAlives = true;
        await using var second = await secondTask;
        var electedBy = Stopwatch.GetTimestamp();

        // The old leader gave up strictly before the store could expire its lease and let "second" win.
        Assert.True(first.Token.IsCancellationRequested, "the second contender was elected while the first still held its token");
        Assert.NotNull(lostAt);
        Assert.True(lostAt > cutAt && lostAt < electedBy);
        Assert.Equal("second", second.Leader.ValueString);
    }

    [Fact]
    public async Task Election_GrantAnsweredLate_NoRenewalEverAcknowledged_LeaderLosesItsTokenBeforeAnotherIsElected()
    {
        // The lease's TTL runs from when the store granted it, not from when the answer arrived (a lagging etcd member
        // answers late): a leader that counted its step-down deadline from the answer could still lead after the
        // lease expired and another contender was elected (seen in the lab: two VIP holders for 16 ms). Its watches
        // are silent too, as for a leader cut off from the store: only the deadline can end its term in time.
        await using var store = await CreateStoreAsync();
        var late = new KeepAliveSwitchStore(store) { GrantAnswerDelay = TimeSpan.FromSeconds(1), FailKeepAlives = true, SilentWatches = true };
        var election = NewElection();
        await using var first = await new StoreElection(late, TimeProvider.System).CampaignAsync(election, Bytes("first"), ShortElection, Timeout());
        long? lostAt = null;
        using var onLost = first.Token.Register(() => lostAt = Stopwatch.GetTimestamp());

        await using var second = await store.CampaignAsync(election, Bytes("second"), ShortElection, Timeout());
        var electedBy = Stopwatch.GetTimestamp();

        Assert.True(first.Token.IsCancellationRequested, "the second contender was elected while the first still held its token");
        Assert.True(lostAt < electedBy);
        Assert.Equal("second", second.Leader.ValueString);
    }

    [Fact]
    public async Task Election_StepDownDeadline_CountsFromTheSendTime_MovesWithEachAcknowledgedRenewal_TokenCancelledAtTheLast_ObserversEnd()
    {
        // The VIP's kernel lifetime is bounded by this deadline: it must be the one the token is cancelled at, counted
        // from when the grant or renewal was sent (never later than the answer's arrival + TTL - margin).
        await using var store = await CreateStoreAsync();
        var flaky = new KeepAliveSwitchStore(store);
        var window = ShortElection.GrantedTtl - ShortElection.EffectiveStepDownMargin;
        var before = DateTimeOffset.UtcNow;
        await using var leader = await new StoreElection(flaky, TimeProvider.System).CampaignAsync(NewElection(), Bytes("leader"), ShortElection, Timeout());
        var first = leader.StepDownDeadline;
        Assert.InRange(first, before + window, DateTimeOffset.UtcNow + window);

        await using var deadlines = leader.ObserveStepDownDeadlineAsync(Timeout()).GetAsyncEnumerator();
        var seen = new List<(DateTimeOffset At, DateTimeOffset Deadline)>();
        while (seen.Count < 4)
        {
            Assert.True(await deadlines.MoveNextAsync(), "the deadlines ended while the leader still leads");
            seen.Add((DateTimeOffset.UtcNow, deadlines.Current));
        }
        Assert.True(seen[0].Deadline >= first);
        for (var i = 1; i < seen.Count; i++)
        {
            Assert.True(seen[i].Deadline > seen[i - 1].Deadline, $"deadline {i} ({seen[i].Deadline:O}) is not after the one before ({seen[i - 1].Deadline:O})");
            Assert.True(seen[i].Deadline <= seen[i].At + window, $"deadline {i} ({seen[i].Deadline:O}) is later than its arrival + TTL - margin ({seen[i].At + window:O})");
        }

        flaky.FailKeepAlives = true;
        await WaitForAsync(() => leader.Token.IsCancellationRequested, "the leader to step down once no renewal is acknowledged");
        var lostAt = DateTimeOffset.UtcNow;
        var last = leader.StepDownDeadline;
        Assert.True(last >= seen[^1].Deadline);
        // Cancelled at the last deadline: not before it (timers never fire early; the clock's granularity aside), and
        // not long after it.
        Assert.InRange(lostAt, last - TimeSpan.FromMilliseconds(20), last + TimeSpan.FromSeconds(5));
        while (await deadlines.MoveNextAsync())
        {
            Assert.True(deadlines.Current <= last);
        }
    }

    [Fact]
    public async Task Election_Observe_YieldsNobodyThenEachNewLeader()
    {
        await using var store = await CreateStoreAsync();
        var election = NewElection();
        var ct = Timeout();
        await using var observe = store.ObserveLeaderAsync(election, ct).GetAsyncEnumerator(ct);
        Assert.True(await observe.MoveNextAsync());
        Assert.Null(observe.Current);

        var first = await store.CampaignAsync(election, Bytes("first"), ShortElection, ct);
        Assert.True(await observe.MoveNextAsync());
        Assert.Equal("first", observe.Current!.ValueString);
        Assert.Equal(first.Leader.Revision, observe.Current.Revision);

        var secondTask = store.CampaignAsync(election, Bytes("second"), ShortElection, ct);
        await first.DisposeAsync();
        await using var second = await secondTask;
        // "second" may have been seen directly, or after a moment with nobody leading.
        Assert.True(await observe.MoveNextAsync());
        if (observe.Current is null)
        {
            Assert.True(await observe.MoveNextAsync());
        }
        Assert.Equal("second", observe.Current!.ValueString);
        Assert.Equal(second.Leader.Revision, observe.Current.Revision);
    }

    /// <summary>Waits until <paramref name="count"/> contenders have put their keys for <paramref name="election"/>.</summary>
    protected static async Task WaitForContendersAsync(IClusterStore store, string election, int count)
    {
        var prefix = StoreElection.KeyPrefix + election + "/";
        var deadline = Stopwatch.GetTimestamp() + (long)(Patience.TotalSeconds * Stopwatch.Frequency);
        while ((await store.RangeAsync(prefix, new RangeOptions { KeysOnly = true })).Count < count)
        {
            Assert.True(Stopwatch.GetTimestamp() < deadline, $"fewer than {count} contenders in election '{election}' after {Patience}");
            await Task.Delay(20);
        }
    }

    protected static async Task WaitForAsync(Func<bool> condition, string what)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(Patience.TotalSeconds * Stopwatch.Frequency);
        while (!condition())
        {
            Assert.True(Stopwatch.GetTimestamp() < deadline, $"timed out after {Patience} waiting for {what}");
            await Task.Delay(20);
        }
    }
}
