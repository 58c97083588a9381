using Corral.Store;

namespace Corral.Store.Tests.Contract;

public class ElectionOptionsTests
{
    [Fact]
    public void Timing_Defaults_AreConsistent()
    {
        var timing = StoreElection.Timing.From(ElectionOptions.Default);
        Assert.Equal(TimeSpan.FromSeconds(5), timing.Ttl);
        Assert.Equal(TimeSpan.FromSeconds(1), timing.RenewInterval);
        Assert.Equal(TimeSpan.FromSeconds(1), timing.StepDownMargin);
    }

    [Fact]
    public void Timing_RenewSlowerThanAThirdOfTtl_IsRefusedWithTheReason()
    {
        var e = Assert.Throws<ArgumentException>(() => StoreElection.Timing.From(new ElectionOptions { Ttl = TimeSpan.FromSeconds(3), RenewInterval = TimeSpan.FromSeconds(2) }));
        Assert.Contains("at most a third of Ttl", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Timing_MarginNotBelowTtlMinusRenew_IsRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => StoreElection.Timing.From(new ElectionOptions { Ttl = TimeSpan.FromSeconds(3), RenewInterval = TimeSpan.FromSeconds(1), StepDownMargin = TimeSpan.FromSeconds(2) }));
        Assert.Contains("StepDownMargin", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PrefixOf_NameWithSlash_IsRefused() =>
        Assert.Throws<ArgumentException>(() => StoreElection.PrefixOf("a/b"));
}
