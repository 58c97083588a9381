using Corral.Core.Monitoring;
using Corral.Testing;

namespace Corral.Core.Tests.Monitoring;

public class RestartWindowTests
{
    private readonly ManualTimeProvider _time = new();

    [Fact]
    public void Observe_FirstSight_IsTheBaseline()
    {
        var window = new RestartWindow(TimeSpan.FromMinutes(1));

        Assert.Equal(0, window.Observe("r", 7, _time.GetUtcNow()));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(2, window.Observe("r", 9, _time.GetUtcNow()));
    }

    [Fact]
    public void Observe_RestartsOlderThanTheWindow_AreNoLongerCounted()
    {
        var window = new RestartWindow(TimeSpan.FromSeconds(10));
        window.Observe("r", 0, _time.GetUtcNow());
        _time.Advance(TimeSpan.FromSeconds(1));
        window.Observe("r", 2, _time.GetUtcNow());
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(3, window.Observe("r", 3, _time.GetUtcNow()));

        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(1, window.Observe("r", 3, _time.GetUtcNow()));
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(0, window.Observe("r", 3, _time.GetUtcNow()));
    }

    [Fact]
    public void Observe_CounterStartsAgain_CountsFromTheNewValue()
    {
        var window = new RestartWindow(TimeSpan.FromMinutes(1));
        window.Observe("r", 5, _time.GetUtcNow());
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(0, window.Observe("r", 0, _time.GetUtcNow()));
        Assert.Equal(1, window.Observe("r", 1, _time.GetUtcNow()));
    }

    [Fact]
    public void Retain_ForgetsOtherReplicas()
    {
        var window = new RestartWindow(TimeSpan.FromMinutes(1));
        window.Observe("a", 0, _time.GetUtcNow());
        window.Observe("b", 0, _time.GetUtcNow());
        window.Retain(new HashSet<string> { "a" });

        Assert.Equal(1, window.Observe("a", 1, _time.GetUtcNow()));
        Assert.Equal(0, window.Observe("b", 1, _time.GetUtcNow()));
    }
}
