using Corral.Server.Monitoring;
using Corral.Testing;

namespace Corral.Server.Tests.Monitoring;

public sealed class MonitorOptionsLoaderTests
{
    [Fact]
    public void Load_NoFile_Defaults()
    {
        using var dir = new TempDirectory();
        Assert.Same(MonitorOptions.Default, MonitorOptionsLoader.Load(dir.Combine("monitor.json")));
    }

    [Fact]
    public void Load_EveryField_Read()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("monitor.json");
        File.WriteAllText(path, """
            {
              "interval": "500ms", "disk_threshold_percent": 1.5, "cert_expiry_warning": "30d", "crash_loop_restarts": 2,
              "crash_loop_window": "20s", "degraded_after": "0s", "last_seen_resolution": "10s", "cleared_retention": "1h",
              "webhook": { "url": "http://127.0.0.1:9/hook", "timeout": "2s", "max_attempts": 3, "backoff": "100ms", "queue_length": 50 },
              "exec": { "command": "/bin/true", "args": ["x"], "timeout": "3s" }
            }
            """);

        var options = MonitorOptionsLoader.Load(path);

        Assert.Equal(TimeSpan.FromMilliseconds(500), options.Interval);
        Assert.Equal(1.5, options.Thresholds.DiskThresholdPercent);
        Assert.Equal(TimeSpan.FromDays(30), options.Thresholds.CertExpiryWarning);
        Assert.Equal(2, options.Thresholds.CrashLoopRestarts);
        Assert.Equal(TimeSpan.Zero, options.Thresholds.DegradedAfter);
        Assert.Equal(TimeSpan.FromSeconds(20), options.CrashLoopWindow);
        Assert.Equal(new Uri("http://127.0.0.1:9/hook"), options.Webhook!.Url);
        Assert.Equal(3, options.Webhook.MaxAttempts);
        Assert.Equal(["x"], options.Exec!.Args);
        Assert.Equal(TimeSpan.FromSeconds(3), options.Exec.Timeout);
    }

    [Fact]
    public void Load_BadFields_EveryOneNamedWithTheFile()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("monitor.json");
        File.WriteAllText(path, """{ "interval": "soon", "disk_threshold_percent": 150, "webhook": { "url": "ftp://x/" }, "exec": { "command": "" } }""");

        var error = Assert.Throws<InvalidOperationException>(() => MonitorOptionsLoader.Load(path));

        Assert.StartsWith(path + ": ", error.Message, StringComparison.Ordinal);
        foreach (var field in new[] { "interval:", "disk_threshold_percent:", "webhook.url:", "exec.command:" })
        {
            Assert.Contains(field, error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Load_MalformedJsonOrUnknownField_NamesLine()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("monitor.json");
        File.WriteAllText(path, "{\n  \"disk_treshold_percent\": 80\n}");

        var error = Assert.Throws<InvalidOperationException>(() => MonitorOptionsLoader.Load(path));

        Assert.StartsWith(path + ":2:", error.Message, StringComparison.Ordinal);
        Assert.Contains("disk_treshold_percent", error.Message, StringComparison.Ordinal);
    }
}
