using Corral.Server;
using Corral.Server.Leadership;
using Corral.Server.Vip;

namespace Corral.Server.Tests.Vip;

public sealed class VipLifetimeTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 8, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    // Default timing: a renewal answered at once leaves 1.5 s until the deadline: 1 s, gone by 1.3 s at the latest.
    [InlineData(1500, 1)]
    // Answered 200 ms after it was sent: 1.3 s left, exactly 1 s plus the kernel's lateness.
    [InlineData(1300, 1)]
    // Answered later: no whole second fits; the lifetime is not extended.
    [InlineData(1299, null)]
    [InlineData(700, null)]
    // A deadline already past (an answer processed after the process was stopped and continued): never extended.
    [InlineData(0, null)]
    [InlineData(-5000, null)]
    // Longer leases get longer lifetimes, rounded down.
    [InlineData(2500, 2)]
    [InlineData(2299, 1)]
    [InlineData(48_000, 47)]
    public void For_WholeSecondsOfTheTimeLeftMinusTheKernelsLateness_NullBelowOneSecond(int leftMs, int? seconds)
    {
        var lifetime = VipLifetime.For(Now + TimeSpan.FromMilliseconds(leftMs), Now);
        Assert.Equal(seconds is { } s ? TimeSpan.FromSeconds(s) : null, lifetime);
        if (lifetime is { } l)
        {
            // Whatever it gives ends, lateness included, by the deadline.
            Assert.True(Now + l + VipLifetime.KernelLateness <= Now + TimeSpan.FromMilliseconds(leftMs));
            Assert.False(VipLifetime.Outlasts(Now, l, Now + TimeSpan.FromMilliseconds(leftMs)));
        }
    }

    [Fact]
    public void Outlasts_TheCallReachedTheKernelLaterThanTheClockReadingItWasComputedFrom_True()
    {
        var deadline = Now + TimeSpan.FromMilliseconds(1500);
        var lifetime = VipLifetime.For(deadline, Now)!.Value;
        // Held up 150 ms between the clock reading and the kernel call: 1 s + 300 ms still ends by the deadline.
        Assert.False(VipLifetime.Outlasts(Now + TimeSpan.FromMilliseconds(150), lifetime, deadline));
        // Held up 250 ms, or stopped for seconds: it could end after the deadline.
        Assert.True(VipLifetime.Outlasts(Now + TimeSpan.FromMilliseconds(250), lifetime, deadline));
        Assert.True(VipLifetime.Outlasts(Now + TimeSpan.FromSeconds(7), lifetime, deadline));
    }

    [Fact]
    public void Fits_DefaultTimingYes_FastTimingNo_CustomByTtlMinusMargin()
    {
        Assert.True(VipLifetime.Fits(new ControlPlaneOptions().WithTiming(HaTiming.Default).Election));
        Assert.False(VipLifetime.Fits(new ControlPlaneOptions().WithTiming(HaTiming.Fast).Election));
        // Defaults of the options themselves (lease 2 s, margin 400 ms: 1.6 s).
        Assert.True(VipLifetime.Fits(new ControlPlaneOptions { ElectionTtl = TimeSpan.FromSeconds(2) }.Election));
        // 2 s - 800 ms = 1.2 s < 1.3 s.
        Assert.False(VipLifetime.Fits(new ControlPlaneOptions { ElectionTtl = TimeSpan.FromSeconds(2), RenewInterval = TimeSpan.FromMilliseconds(300), StepDownMargin = TimeSpan.FromMilliseconds(800) }.Election));
        Assert.True(VipLifetime.Fits(new ControlPlaneOptions { ElectionTtl = TimeSpan.FromSeconds(3) }.Election));
    }
}
