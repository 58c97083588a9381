using Corral.Agent.Stats;
using Corral.Testing;

namespace Corral.Agent.Tests.Stats;

public class NodeStatsSamplerTests
{
    [Fact]
    public void Sample_ThisNode_ReportsPlausibleFigures()
    {
        using var dir = new TempDirectory();
        var time = new ManualTimeProvider();
        var sampler = new NodeStatsSampler(dir.Path, time);

        var stats = sampler.Sample();

        Assert.Equal(Environment.ProcessorCount, stats.CpuCount);
        Assert.InRange(stats.CpuPercent, 0, 100);
        Assert.True(stats.MemoryTotalBytes > 64L * 1024 * 1024, $"MemTotal {stats.MemoryTotalBytes}");
        Assert.InRange(stats.MemoryAvailableBytes, 1, stats.MemoryTotalBytes);
        Assert.True(stats.DiskTotalBytes > 0);
        Assert.InRange(stats.DiskFreeBytes, 0, stats.DiskTotalBytes);
        Assert.True(stats.Load1 >= 0 && stats.Load5 >= 0 && stats.Load15 >= 0);
        Assert.Equal(time.GetUtcNow(), stats.At);
    }

    [Fact]
    public async Task Sample_WhileACoreIsBusy_ReportsCpuSinceThePreviousSample()
    {
        using var dir = new TempDirectory();
        var sampler = new NodeStatsSampler(dir.Path, TimeProvider.System);
        using var busy = SessionProcess.StartScript("while :; do :; done");
        sampler.Sample();

        var cpu = 0.0;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (cpu <= 5 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(500);
            cpu = sampler.Sample().CpuPercent;
        }

        Assert.InRange(cpu, 5.0001, 100);
    }

    [Fact]
    public void Sample_DiskPathOnAnotherFileSystem_ReportsThatFileSystem()
    {
        using var dir = new TempDirectory();
        var here = new NodeStatsSampler(dir.Path, TimeProvider.System).Sample();
        var proc = new NodeStatsSampler("/proc", TimeProvider.System).Sample();

        Assert.NotEqual(here.DiskTotalBytes, proc.DiskTotalBytes);
    }

    [Fact]
    public async Task Sample_DiskUsedPercent_MatchesDf()
    {
        using var dir = new TempDirectory();
        var start = new System.Diagnostics.ProcessStartInfo("df", ["--output=used,avail", "-B1", dir.Path]) { RedirectStandardOutput = true };
        using var df = System.Diagnostics.Process.Start(start)!;
        var output = await df.StandardOutput.ReadToEndAsync();
        await df.WaitForExitAsync();
        var sample = new NodeStatsSampler(dir.Path, TimeProvider.System).Sample();

        var fields = output.Split('\n', StringSplitOptions.RemoveEmptyEntries)[1].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(long.Parse).ToArray();
        var dfPercent = 100.0 * fields[0] / (fields[0] + fields[1]);
        // Other processes write meanwhile: within a tenth of a percent.
        Assert.InRange(sample.DiskUsedPercent, dfPercent - 0.1, dfPercent + 0.1);
        Assert.Equal(sample.DiskUsedBytes + sample.DiskFreeBytes, sample.DiskUsableBytes);
    }
}
