using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Corral.Agent.Health;
using Corral.Agent.Tests.TestSupport;
using Corral.Core.Tasks;
using Corral.Testing;

namespace Corral.Agent.Tests.Health;

public class HealthMonitorTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Http_ServerSwitchesBetween200And500_MonitorFollows()
    {
        await using var server = new SwitchableHttpServer();
        var time = new ManualTimeProvider();
        var spec = new HealthCheckSpec { Kind = HealthCheckKind.Http, Path = "/health", Interval = Interval, Retries = 2 };
        await using var monitor = new HealthMonitor(spec, new HttpHealthProbe(server.Port, spec.Path), time);
        var verdicts = new ConcurrentQueue<HealthVerdict>();
        monitor.Changed += verdicts.Enqueue;
        monitor.Start(time.GetUtcNow());
        Assert.Null(monitor.Current.Healthy);

        await ProbeAsync(time, monitor);
        Assert.True(monitor.Current.Healthy);
        Assert.Equal("HTTP 200 from GET /health", monitor.Current.Reason);

        server.Status = 500;
        await ProbeAsync(time, monitor);
        Assert.True(monitor.Current.Healthy, "one failure is below the threshold of 2");
        Assert.Equal(1, monitor.ConsecutiveFailures);
        await ProbeAsync(time, monitor);
        Assert.False(monitor.Current.Healthy);
        Assert.Equal("2 consecutive failures; last: HTTP 500 from GET /health", monitor.Current.Reason);
        Assert.Equal(time.GetUtcNow(), monitor.Current.Since);

        server.Status = 200;
        await ProbeAsync(time, monitor);
        Assert.True(monitor.Current.Healthy);

        Assert.Equal([true, false, true], verdicts.Select(v => v.Healthy));
    }

    [Fact]
    public async Task Tcp_ListenerStartsAndStops_MonitorFollows()
    {
        var port = FreePorts.Next();
        var time = new ManualTimeProvider();
        var spec = new HealthCheckSpec { Kind = HealthCheckKind.Tcp, Interval = Interval, Retries = 1 };
        await using var monitor = new HealthMonitor(spec, new TcpHealthProbe(port), time);
        monitor.Start(time.GetUtcNow());

        await ProbeAsync(time, monitor);
        Assert.False(monitor.Current.Healthy);
        Assert.StartsWith("1 failure; last: TCP connect", monitor.Current.Reason, StringComparison.Ordinal);

        using (var listener = new TcpListener(IPAddress.Loopback, port))
        {
            listener.Start();
            await ProbeAsync(time, monitor);
            Assert.True(monitor.Current.Healthy);
        }

        await ProbeAsync(time, monitor);
        Assert.False(monitor.Current.Healthy);
    }

    [Fact]
    public async Task Exec_CommandResultChanges_MonitorFollows()
    {
        using var dir = new TempDirectory();
        var time = new ManualTimeProvider();
        var spec = new HealthCheckSpec { Kind = HealthCheckKind.Exec, Command = ["sh", "-c", "test -f ok || exit 1"], Interval = Interval, Retries = 1 };
        await using var monitor = new HealthMonitor(spec, HealthProbes.Create(spec, new Dictionary<string, int>(), dir.Path), time);
        monitor.Start(time.GetUtcNow());

        await ProbeAsync(time, monitor);
        Assert.False(monitor.Current.Healthy);
        Assert.Equal("1 failure; last: exit code 1", monitor.Current.Reason);

        await File.WriteAllTextAsync(dir.Combine("ok"), "");
        await ProbeAsync(time, monitor);
        Assert.True(monitor.Current.Healthy);

        File.Delete(dir.Combine("ok"));
        await ProbeAsync(time, monitor);
        Assert.False(monitor.Current.Healthy);
    }

    [Fact]
    public async Task Exec_ProbeHangsPastTimeout_FailsAndItsProcessGroupIsKilled()
    {
        using var dir = new TempDirectory();
        var pidFile = dir.Combine("pid");
        var time = new ManualTimeProvider();
        var spec = new HealthCheckSpec
        {
            Kind = HealthCheckKind.Exec,
            Command = ["sh", "-c", $"echo $$ > {pidFile}; sleep 60 & sleep 60"],
            Interval = Interval,
            Timeout = TimeSpan.FromSeconds(1),
            Retries = 1,
        };
        await using var monitor = new HealthMonitor(spec, HealthProbes.Create(spec, new Dictionary<string, int>(), dir.Path), time);
        monitor.Start(time.GetUtcNow());
        var pid = 0;
        try
        {
            time.Advance(Interval);
            pid = await ProcessGroups.ReadPidFileAsync(pidFile, Bound);

            // Advance in timeout steps until the probe's timeout, created just after the process started, fires.
            for (var i = 0; i < 20 && monitor.ProbeCount == 0; i++)
            {
                time.Advance(spec.Timeout);
                await WaitUntilAsync(() => monitor.ProbeCount > 0, TimeSpan.FromSeconds(1));
            }

            Assert.Equal(1, monitor.ProbeCount);
            Assert.False(monitor.Current.Healthy);
            Assert.Equal("1 failure; last: probe timed out after 1s", monitor.Current.Reason);
            Assert.True(await ProcessGroups.WaitGoneAsync(pid, Bound), $"probe process group {pid} still has live processes");
        }
        finally
        {
            ProcessGroups.Kill(pid);
        }
    }

    [Fact]
    public async Task DisposeAsync_ExecProbeInFlight_KillsItsProcessGroup()
    {
        using var dir = new TempDirectory();
        var pidFile = dir.Combine("pid");
        var time = new ManualTimeProvider();
        var spec = new HealthCheckSpec { Kind = HealthCheckKind.Exec, Command = ["sh", "-c", $"echo $$ > {pidFile}; sleep 60 & sleep 60"], Interval = Interval };
        var monitor = new HealthMonitor(spec, HealthProbes.Create(spec, new Dictionary<string, int>(), dir.Path), time);
        monitor.Start(time.GetUtcNow());
        var pid = 0;
        try
        {
            time.Advance(Interval);
            pid = await ProcessGroups.ReadPidFileAsync(pidFile, Bound);

            await monitor.DisposeAsync().AsTask().WaitAsync(Bound);

            Assert.True(await ProcessGroups.WaitGoneAsync(pid, TimeSpan.FromSeconds(5)), $"probe process group {pid} outlived the monitor");
            Assert.Equal(0, monitor.ProbeCount);
        }
        finally
        {
            await monitor.DisposeAsync();
            ProcessGroups.Kill(pid);
        }
    }

    [Fact]
    public async Task StartPeriod_FailuresInsideIt_DoNotCount()
    {
        var port = FreePorts.Next();
        var time = new ManualTimeProvider();
        var spec = new HealthCheckSpec { Kind = HealthCheckKind.Tcp, Interval = TimeSpan.FromSeconds(1), Retries = 1, StartPeriod = TimeSpan.FromSeconds(5) };
        await using var monitor = new HealthMonitor(spec, new TcpHealthProbe(port), time);
        monitor.Start(time.GetUtcNow());

        for (var i = 1; i <= 4; i++)
        {
            await ProbeAsync(time, monitor, spec.Interval);
            Assert.False(monitor.LastResult!.Healthy);
            Assert.Null(monitor.Current.Healthy);
            Assert.Equal(0, monitor.ConsecutiveFailures);
        }

        await ProbeAsync(time, monitor, spec.Interval);

        Assert.Equal(5, monitor.ProbeCount);
        Assert.False(monitor.Current.Healthy);
    }

    [Fact]
    public async Task StartPeriod_SuccessInsideIt_CountsAtOnce()
    {
        var port = FreePorts.Next();
        using var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start();
        var time = new ManualTimeProvider();
        var spec = new HealthCheckSpec { Kind = HealthCheckKind.Tcp, Interval = TimeSpan.FromSeconds(1), StartPeriod = TimeSpan.FromMinutes(1) };
        await using var monitor = new HealthMonitor(spec, new TcpHealthProbe(port), time);
        monitor.Start(time.GetUtcNow());

        await ProbeAsync(time, monitor, spec.Interval);

        Assert.True(monitor.Current.Healthy);
    }

    [Fact]
    public async Task StartPeriod_TaskStartedLongAgo_FailuresCountAtOnce()
    {
        var port = FreePorts.Next();
        var time = new ManualTimeProvider();
        var spec = new HealthCheckSpec { Kind = HealthCheckKind.Tcp, Interval = TimeSpan.FromSeconds(1), Retries = 1, StartPeriod = TimeSpan.FromSeconds(30) };
        await using var monitor = new HealthMonitor(spec, new TcpHealthProbe(port), time);
        monitor.Start(time.GetUtcNow() - TimeSpan.FromMinutes(10));

        await ProbeAsync(time, monitor, spec.Interval);

        Assert.False(monitor.Current.Healthy);
    }

    [Fact]
    public async Task Start_NoTimePassed_DoesNotProbe()
    {
        await using var server = new SwitchableHttpServer();
        var time = new ManualTimeProvider();
        var spec = new HealthCheckSpec { Kind = HealthCheckKind.Http, Interval = Interval };
        await using var monitor = new HealthMonitor(spec, new HttpHealthProbe(server.Port, "/"), time);
        var startedAt = time.GetUtcNow();

        monitor.Start(startedAt);
        time.Advance(Interval - TimeSpan.FromMilliseconds(1));
        await Task.Delay(200);

        Assert.Equal(0, monitor.ProbeCount);
        Assert.Equal(0, server.Requests);
        Assert.Equal(new HealthVerdict(null, startedAt, "no verdict yet: waiting for the first probe"), monitor.Current);
    }

    [Fact]
    public async Task Start_Twice_Throws()
    {
        var time = new ManualTimeProvider();
        await using var monitor = new HealthMonitor(new HealthCheckSpec { Kind = HealthCheckKind.Tcp }, new TcpHealthProbe(FreePorts.Next()), time);
        monitor.Start(time.GetUtcNow());

        Assert.Throws<InvalidOperationException>(() => monitor.Start(time.GetUtcNow()));
    }

    [Fact]
    public void Constructor_NonPositiveInterval_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            new HealthMonitor(new HealthCheckSpec { Kind = HealthCheckKind.Tcp, Interval = TimeSpan.Zero }, new TcpHealthProbe(1), new ManualTimeProvider()));

    [Fact]
    public async Task Changed_HandlerThrows_MonitorKeepsProbing()
    {
        var port = FreePorts.Next();
        var time = new ManualTimeProvider();
        var spec = new HealthCheckSpec { Kind = HealthCheckKind.Tcp, Interval = Interval, Retries = 1 };
        await using var monitor = new HealthMonitor(spec, new TcpHealthProbe(port), time);
        monitor.Changed += _ => throw new InvalidOperationException("subscriber bug");
        monitor.Start(time.GetUtcNow());

        await ProbeAsync(time, monitor);
        Assert.False(monitor.Current.Healthy);
        using var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start();
        await ProbeAsync(time, monitor);

        Assert.True(monitor.Current.Healthy);
    }

    [Fact]
    public async Task Http_RealClock_BecomesHealthyThenUnhealthy()
    {
        await using var server = new SwitchableHttpServer();
        var spec = new HealthCheckSpec { Kind = HealthCheckKind.Http, Interval = TimeSpan.FromMilliseconds(100), Timeout = TimeSpan.FromSeconds(5), Retries = 2 };
        await using var monitor = new HealthMonitor(spec, new HttpHealthProbe(server.Port, "/"), TimeProvider.System);
        monitor.Start(DateTimeOffset.UtcNow);

        await WaitUntilAsync(() => monitor.Current.Healthy == true, Bound);
        Assert.True(monitor.Current.Healthy);
        server.Status = 503;
        await WaitUntilAsync(() => monitor.Current.Healthy == false, Bound);
        Assert.False(monitor.Current.Healthy);
    }

    /// <summary>Moves the clock one interval and waits (bounded, in real time) for the probe that falls due.</summary>
    private static async Task ProbeAsync(ManualTimeProvider time, HealthMonitor monitor, TimeSpan? interval = null)
    {
        var before = monitor.ProbeCount;
        // The monitor's loop reads the clock, then creates its timer: advancing in between would put its next probe a
        // whole interval later. Advance only once it waits.
        await WaitUntilAsync(() => time.PendingTimers > 0, Bound);
        time.Advance(interval ?? Interval);
        await WaitUntilAsync(() => monitor.ProbeCount > before, TimeSpan.FromSeconds(5));
        if (monitor.ProbeCount == before)
        {
            // A probe that hangs (a loopback connect the kernel did not answer at once) only ends at its timeout,
            // which runs on the fake clock: let it fall due (1 s, the default timeout, less than the interval).
            time.Advance(TimeSpan.FromSeconds(1));
            await WaitUntilAsync(() => monitor.ProbeCount > before, Bound);
        }
        Assert.Equal(before + 1, monitor.ProbeCount);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }
    }
}
