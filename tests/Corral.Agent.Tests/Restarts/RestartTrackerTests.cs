using Corral.Agent.Restarts;
using Corral.Core.Tasks;
using Corral.Testing;

namespace Corral.Agent.Tests.Restarts;

public class RestartTrackerTests
{
    private static readonly RestartPolicy NoJitter = new()
    {
        Mode = RestartMode.Always,
        MaxAttempts = 5,
        Window = TimeSpan.FromMinutes(5),
        Backoff = TimeSpan.FromSeconds(1),
        MaxBackoff = TimeSpan.FromSeconds(30),
        Jitter = 0,
    };

    [Fact]
    public void OnExit_AlwaysAfterCleanExit_Restarts()
    {
        var tracker = new RestartTracker(NoJitter, new ManualTimeProvider());

        var decision = tracker.OnExit(0, "");

        Assert.True(decision.Restart);
        Assert.Equal(ReplicaState.Starting, decision.FinalState);
        Assert.Equal(TimeSpan.FromSeconds(1), decision.Delay);
        Assert.Contains("exited with code 0", decision.Reason, StringComparison.Ordinal);
        Assert.Equal(1, tracker.RestartsInWindow);
    }

    [Fact]
    public void OnExit_OnFailureAfterCleanExit_EndsExited()
    {
        var tracker = new RestartTracker(NoJitter with { Mode = RestartMode.OnFailure }, new ManualTimeProvider());

        var decision = tracker.OnExit(0, "some noise");

        Assert.False(decision.Restart);
        Assert.Equal(ReplicaState.Exited, decision.FinalState);
        Assert.Equal(TimeSpan.Zero, decision.Delay);
        Assert.Equal("exited with code 0; restart policy on-failure", decision.Reason);
        Assert.Equal(0, tracker.RestartsInWindow);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(137)]
    public void OnExit_OnFailureAfterFailure_Restarts(int exitCode)
    {
        var tracker = new RestartTracker(NoJitter with { Mode = RestartMode.OnFailure }, new ManualTimeProvider());

        var decision = tracker.OnExit(exitCode, "boom");

        Assert.True(decision.Restart);
        Assert.Equal(TimeSpan.FromSeconds(1), decision.Delay);
    }

    [Fact]
    public void OnExit_NeverAfterCleanExit_EndsExited()
    {
        var tracker = new RestartTracker(NoJitter with { Mode = RestartMode.Never }, new ManualTimeProvider());

        var decision = tracker.OnExit(0, "");

        Assert.False(decision.Restart);
        Assert.Equal(ReplicaState.Exited, decision.FinalState);
    }

    [Fact]
    public void OnExit_NeverAfterFailure_EndsFailedWithCodeAndStderr()
    {
        var tracker = new RestartTracker(NoJitter with { Mode = RestartMode.Never }, new ManualTimeProvider());

        var decision = tracker.OnExit(3, "error: config missing\n");

        Assert.False(decision.Restart);
        Assert.Equal(ReplicaState.Failed, decision.FinalState);
        Assert.Equal("exited with code 3; restart policy never; last stderr: error: config missing", decision.Reason);
    }

    [Fact]
    public void OnExit_DeathBySignal_NamesTheSignal()
    {
        var tracker = new RestartTracker(NoJitter with { Mode = RestartMode.Never }, new ManualTimeProvider());

        var decision = tracker.OnExit(128 + 9, "");

        Assert.Equal(ReplicaState.Failed, decision.FinalState);
        Assert.StartsWith("killed by signal 9 (SIGKILL) (exit code 137)", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void OnExit_RepeatedCrashes_BackOffDoublesUpToTheCap()
    {
        var policy = NoJitter with { MaxAttempts = 10, Window = TimeSpan.FromHours(1), Backoff = TimeSpan.FromSeconds(1), MaxBackoff = TimeSpan.FromSeconds(10) };
        var time = new ManualTimeProvider();
        var tracker = new RestartTracker(policy, time);

        var delays = new List<double>();
        for (var i = 0; i < 6; i++)
        {
            var decision = tracker.OnExit(1, "");
            Assert.True(decision.Restart);
            delays.Add(decision.Delay.TotalSeconds);
            time.Advance(decision.Delay + TimeSpan.FromSeconds(1));
        }

        Assert.Equal([1, 2, 4, 8, 10, 10], delays);
    }

    [Fact]
    public void OnExit_PastMaxAttemptsInWindow_FailsWithCrashLoopReason()
    {
        var time = new ManualTimeProvider();
        var tracker = new RestartTracker(NoJitter, time);

        for (var i = 0; i < 5; i++)
        {
            var decision = tracker.OnExit(3, "");
            Assert.True(decision.Restart, $"restart {i + 1} should be granted");
            time.Advance(TimeSpan.FromSeconds(10));
        }
        var last = tracker.OnExit(3, "panic: database unreachable");

        Assert.False(last.Restart);
        Assert.Equal(ReplicaState.Failed, last.FinalState);
        Assert.Equal(TimeSpan.Zero, last.Delay);
        Assert.Equal("crash loop: exited with code 3, 5 restarts in 5m; last stderr: panic: database unreachable", last.Reason);
    }

    [Fact]
    public void OnExit_LongStderr_KeepsOnlyTheTail()
    {
        var tracker = new RestartTracker(NoJitter with { Mode = RestartMode.Never }, new ManualTimeProvider());
        var stderr = new string('x', 5000) + "THE END";

        var decision = tracker.OnExit(1, stderr);

        Assert.EndsWith("THE END", decision.Reason, StringComparison.Ordinal);
        Assert.True(decision.Reason.Length < 700, $"reason is {decision.Reason.Length} characters");
    }

    [Fact]
    public void OnExit_OldRestartsLeaveTheWindow_RestartsAgainWithBackoffReset()
    {
        var time = new ManualTimeProvider();
        var policy = NoJitter with { MaxAttempts = 3, Window = TimeSpan.FromMinutes(1) };
        var tracker = new RestartTracker(policy, time);

        Assert.True(tracker.OnExit(1, "").Restart);    // t=0
        time.Advance(TimeSpan.FromSeconds(20));
        Assert.True(tracker.OnExit(1, "").Restart);    // t=20
        time.Advance(TimeSpan.FromSeconds(20));
        Assert.True(tracker.OnExit(1, "").Restart);    // t=40
        Assert.Equal(3, tracker.RestartsInWindow);

        time.Advance(TimeSpan.FromSeconds(10));         // t=50: all three still inside
        Assert.False(tracker.OnExit(1, "").Restart);

        var slid = new RestartTracker(policy, time);
        Assert.True(slid.OnExit(1, "").Restart);        // t=50
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.True(slid.OnExit(1, "").Restart);        // t=80
        time.Advance(TimeSpan.FromSeconds(20));
        Assert.True(slid.OnExit(1, "").Restart);        // t=100
        time.Advance(TimeSpan.FromSeconds(15));         // t=115: the t=50 restart has slid out
        Assert.Equal(2, slid.RestartsInWindow);

        var decision = slid.OnExit(1, "");

        Assert.True(decision.Restart);
        Assert.Equal(TimeSpan.FromSeconds(4), decision.Delay);
        Assert.Equal(3, slid.RestartsInWindow);
    }

    [Fact]
    public void OnExit_QuietLongerThanWindow_StartsBackOffAgain()
    {
        var time = new ManualTimeProvider();
        var tracker = new RestartTracker(NoJitter, time);
        Assert.Equal(TimeSpan.FromSeconds(1), tracker.OnExit(1, "").Delay);
        Assert.Equal(TimeSpan.FromSeconds(2), tracker.OnExit(1, "").Delay);
        Assert.Equal(TimeSpan.FromSeconds(4), tracker.OnExit(1, "").Delay);

        time.Advance(TimeSpan.FromMinutes(5));

        Assert.Equal(0, tracker.RestartsInWindow);
        Assert.Equal(TimeSpan.FromSeconds(1), tracker.OnExit(1, "").Delay);
    }

    [Fact]
    public void RestartsInWindow_RestartExactlyWindowAgo_HasLeft()
    {
        var time = new ManualTimeProvider();
        var tracker = new RestartTracker(NoJitter with { Window = TimeSpan.FromSeconds(60) }, time);
        tracker.OnExit(1, "");

        time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(1, tracker.RestartsInWindow);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(0, tracker.RestartsInWindow);
    }

    [Fact]
    public void OnExit_WithJitter_StaysWithinBoundsAndVaries()
    {
        var policy = NoJitter with { MaxAttempts = 1, Backoff = TimeSpan.FromSeconds(10), MaxBackoff = TimeSpan.FromSeconds(10), Jitter = 0.2 };
        var random = new Random(42);
        var time = new ManualTimeProvider();
        var seen = new HashSet<TimeSpan>();

        for (var i = 0; i < 500; i++)
        {
            var delay = new RestartTracker(policy, time, random).OnExit(1, "").Delay;
            Assert.InRange(delay, TimeSpan.FromSeconds(8), TimeSpan.FromSeconds(12));
            seen.Add(delay);
        }

        Assert.True(seen.Count > 400, $"only {seen.Count} distinct delays in 500");
        Assert.Contains(seen, d => d < TimeSpan.FromSeconds(8.5));
        Assert.Contains(seen, d => d > TimeSpan.FromSeconds(11.5));
    }

    [Fact]
    public void OnExit_SameSeed_SameDelays()
    {
        var policy = NoJitter with { Jitter = 0.5 };
        var a = new RestartTracker(policy, new ManualTimeProvider(), new Random(7));
        var b = new RestartTracker(policy, new ManualTimeProvider(), new Random(7));

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(a.OnExit(1, "").Delay, b.OnExit(1, "").Delay);
        }
    }

    [Fact]
    public void OnExit_ZeroBackoff_RestartsImmediatelyUntilTheLimit()
    {
        var policy = NoJitter with { Backoff = TimeSpan.Zero, Jitter = 0.5, MaxAttempts = 200, Window = TimeSpan.FromMinutes(1) };
        var tracker = new RestartTracker(policy, new ManualTimeProvider(), new Random(1));

        for (var i = 0; i < 200; i++)
        {
            var decision = tracker.OnExit(1, "");
            Assert.True(decision.Restart);
            Assert.Equal(TimeSpan.Zero, decision.Delay);
        }

        var last = tracker.OnExit(1, "");
        Assert.False(last.Restart);
        Assert.Equal("crash loop: exited with code 1, 200 restarts in 1m", last.Reason);
    }

    [Fact]
    public void OnExit_ZeroMaxAttempts_FailsOnFirstCrash()
    {
        var tracker = new RestartTracker(NoJitter with { MaxAttempts = 0 }, new ManualTimeProvider());

        var decision = tracker.OnExit(2, "");

        Assert.False(decision.Restart);
        Assert.Equal(ReplicaState.Failed, decision.FinalState);
        Assert.Equal("crash loop: exited with code 2, 0 restarts in 5m", decision.Reason);
    }

    [Fact]
    public void OnExit_AlwaysWithCleanExitsPastTheLimit_FailsAsRestartLoop()
    {
        var tracker = new RestartTracker(NoJitter with { MaxAttempts = 1 }, new ManualTimeProvider());
        tracker.OnExit(0, "");

        var decision = tracker.OnExit(0, "");

        Assert.Equal(ReplicaState.Failed, decision.FinalState);
        Assert.StartsWith("restart loop: exited with code 0, 1 restarts in 5m", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Reset_AfterRestarts_ForgetsThem()
    {
        var tracker = new RestartTracker(NoJitter, new ManualTimeProvider());
        tracker.OnExit(1, "");
        tracker.OnExit(1, "");

        tracker.Reset();

        Assert.Equal(0, tracker.RestartsInWindow);
        Assert.Equal(TimeSpan.FromSeconds(1), tracker.OnExit(1, "").Delay);
    }

    [Fact]
    public void OnExit_GrantedRestart_ReasonSaysWhichAndWhen()
    {
        var tracker = new RestartTracker(NoJitter, new ManualTimeProvider());
        tracker.OnExit(1, "");

        var decision = tracker.OnExit(1, "");

        Assert.Equal("exited with code 1; restart 2 of 5 in 5m after 2s", decision.Reason);
    }
}
