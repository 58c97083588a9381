using Corral.Server.Leadership;

namespace Corral.Server.Tests;

public class HaTimingTests
{
    [Fact]
    public void Validate_DefaultAndFastProfiles_AreSafe()
    {
        Assert.Empty(HaTiming.Default.Validate());
        Assert.Empty(HaTiming.Fast.Validate());
    }

    [Fact]
    public void Validate_StepDownMarginBelowMinimum_RefusedBecauseItAllowsTwoLeaders()
    {
        var error = Assert.Single(new HaTiming { StepDownMargin = TimeSpan.FromMilliseconds(50) }.Validate());
        Assert.Contains("step_down_margin 50ms", error, StringComparison.Ordinal);
        Assert.Contains("two leaders", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_RenewIntervalAboveAThirdOfTtl_RefusedWithReason()
    {
        var error = Assert.Single(new HaTiming { LeaseTtl = TimeSpan.FromSeconds(6), RenewInterval = TimeSpan.FromMilliseconds(2500) }.Validate());
        Assert.Contains("renew_interval 2s500ms", error, StringComparison.Ordinal);
        Assert.Contains("a third of lease_ttl", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_MarginLeavingNoTimeToRenew_Refused()
    {
        var error = Assert.Single(new HaTiming { StepDownMargin = TimeSpan.FromSeconds(4) }.Validate());
        Assert.Contains("less than lease_ttl - renew_interval", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_EtcdElectionTimeoutUnderFiveHeartbeats_RefusedAsEtcdWould()
    {
        var error = Assert.Single(new HaTiming { EtcdHeartbeat = TimeSpan.FromMilliseconds(300) }.Validate());
        Assert.Contains("etcd_election_timeout 500ms must be at least 5 × etcd_heartbeat (1s500ms)", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_LeaseTtlBelowEtcdMinimumAndFractional_BothReported()
    {
        var errors = new HaTiming { LeaseTtl = TimeSpan.FromMilliseconds(1500), RenewInterval = TimeSpan.FromMilliseconds(300), StepDownMargin = TimeSpan.FromMilliseconds(200), EtcdElectionTimeout = TimeSpan.FromSeconds(1) }.Validate();
        Assert.Contains(errors, e => e.Contains("whole seconds", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("etcd would silently lengthen it", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_LeaseSoShortAnEtcdElectionDeposesTheLeader_Refused()
    {
        var timing = new HaTiming { LeaseTtl = TimeSpan.FromSeconds(3), RenewInterval = TimeSpan.FromSeconds(1), StepDownMargin = TimeSpan.FromSeconds(1), EtcdElectionTimeout = TimeSpan.FromSeconds(1) };
        var error = Assert.Single(timing.Validate());
        Assert.Contains("every etcd leader change deposes the Corral leader", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Default_IsLease2sRenew300msMargin500msEtcd50msAnd500ms()
    {
        var timing = HaTiming.Default;
        Assert.Equal(TimeSpan.FromSeconds(2), timing.LeaseTtl);
        Assert.Equal(TimeSpan.FromMilliseconds(300), timing.RenewInterval);
        Assert.Equal(TimeSpan.FromMilliseconds(500), timing.StepDownMargin);
        Assert.Equal(TimeSpan.FromMilliseconds(50), timing.EtcdHeartbeat);
        Assert.Equal(TimeSpan.FromMilliseconds(500), timing.EtcdElectionTimeout);
        // etcd's least lease TTL for a 500 ms election timeout: ceil(750 ms) = 1 s, below the lease.
        Assert.Equal(TimeSpan.FromSeconds(1), timing.EtcdMinLeaseTtl);
        Assert.Equal(timing, new HaTiming());
    }

    [Fact]
    public void Fast_IsLease1sRenew150msMargin250msEtcd25msAnd250ms()
    {
        var timing = HaTiming.Fast;
        Assert.Equal(TimeSpan.FromSeconds(1), timing.LeaseTtl);
        Assert.Equal(TimeSpan.FromMilliseconds(150), timing.RenewInterval);
        Assert.Equal(TimeSpan.FromMilliseconds(250), timing.StepDownMargin);
        Assert.Equal(TimeSpan.FromMilliseconds(25), timing.EtcdHeartbeat);
        Assert.Equal(TimeSpan.FromMilliseconds(250), timing.EtcdElectionTimeout);
        Assert.Equal(TimeSpan.FromSeconds(1), timing.EtcdMinLeaseTtl);
    }

    [Fact]
    public void Validate_UnansweredRenewalsShorterThanTwoElectionTimeouts_RefusedNamingTheRandomizedElection()
    {
        // 2 s - 500 ms - 300 ms = 1.2 s: safe with a 500 ms election timeout, not with 600 ms (etcd may need 1.2 s).
        var error = Assert.Single((HaTiming.Default with { EtcdElectionTimeout = TimeSpan.FromMilliseconds(600) }).Validate());
        Assert.Contains("lease_ttl - step_down_margin - renew_interval (1s200ms) must exceed 2 × etcd_election_timeout (1s200ms", error, StringComparison.Ordinal);
        Assert.Contains("randomized 1–2 election timeouts", error, StringComparison.Ordinal);
        Assert.Empty((HaTiming.Default with { EtcdElectionTimeout = TimeSpan.FromMilliseconds(590) }).Validate());
    }

    [Fact]
    public void Validate_FastLeaseWithDefaultEtcd_RefusedBecauseEtcdWouldLengthenIt()
    {
        // etcd's own defaults (100 ms, 1 s) raise every lease to at least 2 s.
        var error = Assert.Single((HaTiming.Fast with { EtcdHeartbeat = TimeSpan.FromMilliseconds(100), EtcdElectionTimeout = TimeSpan.FromSeconds(1) }).Validate());
        Assert.Contains("lease_ttl 1s is below etcd's least lease TTL for etcd_election_timeout 1s (2s)", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ExternalEtcdAtItsOwnDefaults_NeedsAThreeSecondLease()
    {
        var external = HaTiming.Default with { EtcdHeartbeat = TimeSpan.FromMilliseconds(100), EtcdElectionTimeout = TimeSpan.FromSeconds(1) };
        var error = Assert.Single(external.Validate());
        Assert.Contains("(1s200ms) must exceed 2 × etcd_election_timeout (2s", error, StringComparison.Ordinal);
        Assert.Empty((external with { LeaseTtl = TimeSpan.FromSeconds(3) }).Validate());
    }

    [Fact]
    public void ControlPlaneOptions_WithTiming_TakesTheLeadershipPart()
    {
        var options = new ControlPlaneOptions { ServerName = "s1" }.WithTiming(HaTiming.Fast);
        Assert.Equal(TimeSpan.FromSeconds(1), options.ElectionTtl);
        Assert.Equal(TimeSpan.FromMilliseconds(150), options.RenewInterval);
        Assert.Equal(TimeSpan.FromMilliseconds(250), options.StepDownMargin);
        Assert.Empty(options.Validate());
        Assert.Equal(HaTiming.Default.LeaseTtl, ControlPlaneOptions.Default.ElectionTtl);
    }

    [Fact]
    public void ThrowIfInvalid_SeveralProblems_ListsEvery()
    {
        var e = Assert.Throws<ArgumentException>(() => new HaTiming { StepDownMargin = TimeSpan.Zero, EtcdHeartbeat = TimeSpan.FromSeconds(2) }.ThrowIfInvalid());
        Assert.Contains("step_down_margin", e.Message, StringComparison.Ordinal);
        Assert.Contains("etcd_heartbeat", e.Message, StringComparison.Ordinal);
    }
}
