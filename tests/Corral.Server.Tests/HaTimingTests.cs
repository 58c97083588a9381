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
        Assert.Contains("etcd_election_timeout 1s must be at least 5 × etcd_heartbeat (1s500ms)", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_LeaseTtlBelowEtcdMinimumAndFractional_BothReported()
    {
        var errors = new HaTiming { LeaseTtl = TimeSpan.FromMilliseconds(1500), RenewInterval = TimeSpan.FromMilliseconds(300), StepDownMargin = TimeSpan.FromMilliseconds(200) }.Validate();
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
    public void ThrowIfInvalid_SeveralProblems_ListsEvery()
    {
        var e = Assert.Throws<ArgumentException>(() => new HaTiming { StepDownMargin = TimeSpan.Zero, EtcdHeartbeat = TimeSpan.FromSeconds(2) }.ThrowIfInvalid());
        Assert.Contains("step_down_margin", e.Message, StringComparison.Ordinal);
        Assert.Contains("etcd_heartbeat", e.Message, StringComparison.Ordinal);
    }
}
