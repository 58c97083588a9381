using Corral.Agent.ControlPlane;
using Corral.Core.Api;
using Corral.Core.Tasks;
using Corral.Testing;

namespace Corral.Agent.Tests.ControlPlane;

public sealed class SingletonFenceTests
{
    private static readonly TaskSpec Task = new() { Command = "/bin/true" };

    [Fact]
    public void Due_NoAcknowledgedHeartbeatForFenceAfter_FencesOnlySingletonsOnce()
    {
        var time = new ManualTimeProvider();
        var fence = new SingletonFence(time);
        fence.Applied([Singleton("one", TimeSpan.FromSeconds(2)), Singleton("two", TimeSpan.FromSeconds(5)), Replicated("many")], time.GetUtcNow());
        fence.Reached(time.GetUtcNow());

        time.Advance(TimeSpan.FromMilliseconds(1999));
        Assert.Empty(fence.Due());
        time.Advance(TimeSpan.FromMilliseconds(1));
        var due = fence.Due();
        Assert.Equal(["one"], due.Keys);
        Assert.StartsWith("fenced:", due["one"], StringComparison.Ordinal);
        Assert.Contains("fence_after 2s", due["one"], StringComparison.Ordinal);
        Assert.True(fence.HasFenced);
        Assert.Empty(fence.Due());

        time.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(["two"], fence.Due().Keys);
        Assert.Equal(["one", "two"], fence.Fenced.Order(StringComparer.Ordinal));
    }

    /// <summary>
    /// A restarted agent goes on from the contact its earlier run kept, not from its own start: a restart must never
    /// push a singleton's deadline past the one the leader's eviction is counted against.
    /// </summary>
    [Fact]
    public void Due_AfterARestart_CountsFromTheEarlierRunsLastContact()
    {
        var time = new ManualTimeProvider();
        var before = time.GetUtcNow();
        time.Advance(TimeSpan.FromSeconds(3));
        var fence = new SingletonFence(time, before);
        Assert.Equal(before, fence.LastContact);
        fence.Applied([Singleton("one", TimeSpan.FromSeconds(4))], time.GetUtcNow());
        Assert.Empty(fence.Due());
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(["one"], fence.Due().Keys);

        // A contact from the future (a clock stepped back) is not believed.
        var later = new SingletonFence(time, time.GetUtcNow() + TimeSpan.FromMinutes(5));
        Assert.Equal(time.GetUtcNow(), later.LastContact);
    }

    /// <summary>
    /// A frozen agent's fence loop never ran, so nothing was fenced; the first heartbeat after the thaw is acknowledged.
    /// Judged at that heartbeat's send time, before it counts, the lapsed singleton is due: it may have been replaced
    /// while the supervisor alone stopped it, so it must not be revived by the regained contact (seen once in CI: the
    /// thawed agent renewed the supervisor's fence from its stale set and its restart policy started the task again).
    /// </summary>
    [Fact]
    public void Due_JudgedAtTheSendOfTheFirstHeartbeatAfterAFreeze_NamesTheSingletonsThatLapsed()
    {
        var time = new ManualTimeProvider();
        var fence = new SingletonFence(time);
        fence.Applied([Singleton("one", TimeSpan.FromSeconds(3)), Singleton("two", TimeSpan.FromSeconds(30))], time.GetUtcNow());
        fence.Reached(time.GetUtcNow());
        time.Advance(TimeSpan.FromSeconds(7));
        var sentAt = time.GetUtcNow();
        time.Advance(TimeSpan.FromMilliseconds(50));

        var lapsed = fence.Due(sentAt);
        fence.Reached(sentAt);

        Assert.Equal(["one"], lapsed.Keys);
        Assert.True(fence.HasFenced);
        Assert.False(fence.MayApply(sentAt - TimeSpan.FromMilliseconds(1)));
        Assert.True(fence.MayApply(sentAt));
        // A heartbeat sent just before a deadline and answered after it is not a lapse.
        var before = sentAt + TimeSpan.FromSeconds(30) - TimeSpan.FromMilliseconds(1);
        Assert.Empty(fence.Due(before));
    }

    [Fact]
    public void Due_HeartbeatsAcknowledged_NothingIsFenced()
    {
        var time = new ManualTimeProvider();
        var fence = new SingletonFence(time);
        fence.Applied([Singleton("one", TimeSpan.FromSeconds(2))], time.GetUtcNow());
        for (var i = 0; i < 10; i++)
        {
            fence.Reached(time.GetUtcNow());
            time.Advance(TimeSpan.FromSeconds(1));
            Assert.Empty(fence.Due());
        }
    }

    [Fact]
    public void Due_ContactCountsFromTheSendOfTheAcknowledgedHeartbeatNotItsAnswer()
    {
        var time = new ManualTimeProvider();
        var fence = new SingletonFence(time);
        fence.Applied([Singleton("one", TimeSpan.FromSeconds(2))], time.GetUtcNow());
        var sentAt = time.GetUtcNow();
        time.Advance(TimeSpan.FromSeconds(1.5));
        fence.Reached(sentAt);
        time.Advance(TimeSpan.FromSeconds(0.5));
        Assert.Equal(["one"], fence.Due().Keys);
    }

    [Fact]
    public void MayApply_AfterFence_OnlyASetRequestedAfterAnAcknowledgedHeartbeatSentAfterTheFence()
    {
        var time = new ManualTimeProvider();
        var fence = new SingletonFence(time);
        fence.Applied([Singleton("one", TimeSpan.FromSeconds(2))], time.GetUtcNow());
        Assert.True(fence.MayApply(time.GetUtcNow()));
        var staleRequest = time.GetUtcNow();
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Single(fence.Due());

        Assert.False(fence.MayApply(staleRequest));
        Assert.False(fence.MayApply(time.GetUtcNow()));
        fence.Reached(staleRequest);
        Assert.False(fence.MayApply(time.GetUtcNow()));

        time.Advance(TimeSpan.FromSeconds(1));
        var regained = time.GetUtcNow();
        fence.Reached(regained);
        Assert.False(fence.MayApply(regained - TimeSpan.FromMilliseconds(1)));
        Assert.True(fence.MayApply(regained));

        fence.Applied([Singleton("one", TimeSpan.FromSeconds(2))], time.GetUtcNow());
        Assert.False(fence.HasFenced);
        Assert.Empty(fence.Fenced);
        Assert.Empty(fence.Due());
    }

    [Fact]
    public void Applied_SetRequestedBeforeAFence_KeepsThatReplicaFenced()
    {
        var time = new ManualTimeProvider();
        var fence = new SingletonFence(time);
        fence.Applied([Singleton("one", TimeSpan.FromSeconds(2))], time.GetUtcNow());
        var requestedAt = time.GetUtcNow();
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Single(fence.Due());

        // A set requested before the fence arrives afterwards: it settles nothing.
        fence.Applied([Singleton("one", TimeSpan.FromSeconds(2))], requestedAt);

        Assert.True(fence.HasFenced);
        Assert.Equal(["one"], fence.Fenced);
        Assert.False(fence.MayApply(time.GetUtcNow()));
    }

    private static Assignment Singleton(string id, TimeSpan fenceAfter) => new(id, "svc-" + id, "v1", Task, true, fenceAfter);

    private static Assignment Replicated(string id) => new(id, "svc-" + id, "v1", Task, false, TimeSpan.FromSeconds(1));
}
