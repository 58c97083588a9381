using Corral.Agent.Stats;
using Corral.Agent.Tests.TestSupport;
using Corral.Testing;

namespace Corral.Agent.Tests.Stats;

public class ProcessTreeSamplerTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Sample_ShellWithTwoChildren_CountsTheWholeTree()
    {
        using var tree = SessionProcess.StartScript("sleep 30 & sleep 30 & wait");
        var sampler = new ProcessTreeSampler(TimeProvider.System);

        var stats = await SampleUntilAsync(sampler, tree.Pid, s => s.ProcessCount == 3);

        Assert.Equal(3, stats.ProcessCount);
        Assert.True(stats.RssBytes > 3 * 4096, $"RSS {stats.RssBytes} bytes for three processes");
    }

    [Fact]
    public async Task Sample_GrandchildReparentedAway_IsStillCounted()
    {
        // An inner shell starts a sleep and exits at once, so that sleep is re-parented away from the task's shell.
        using var dir = new TempDirectory();
        var orphanPidFile = dir.Combine("orphan");
        using var tree = SessionProcess.StartScript($"sh -c 'sleep 30 & echo $! > {orphanPidFile}'; sleep 30");
        var orphan = await ProcessGroups.ReadPidFileAsync(orphanPidFile, Bound);
        var sampler = new ProcessTreeSampler(TimeProvider.System);

        var stats = await SampleUntilAsync(sampler, tree.Pid, s => s.ProcessCount == 3 && ParentOf(orphan) is { } parent && parent != tree.Pid);

        Assert.Equal(3, stats.ProcessCount);
        Assert.NotEqual(tree.Pid, ParentOf(orphan));
    }

    [Fact]
    public async Task Sample_BusyLoop_ReportsCpu()
    {
        using var busy = SessionProcess.StartScript("while :; do :; done");
        var sampler = new ProcessTreeSampler(TimeProvider.System);
        // Until setsid has made the session, a sample does not list it yet: wait for the first that does.
        var first = await SampleUntilAsync(sampler, busy.Pid, _ => true);
        Assert.Equal(0, first.CpuPercent);

        var stats = await SampleUntilAsync(sampler, busy.Pid, s => s.CpuPercent > 5, TimeSpan.FromMilliseconds(500));

        Assert.True(stats.CpuPercent > 5, $"busy loop at {stats.CpuPercent:F1}% CPU");
        Assert.True(stats.CpuPercent < 150, $"one single-threaded loop cannot use {stats.CpuPercent:F1}% of one core");
    }

    [Fact]
    public async Task Sample_CommandNameWithSpacesAndParentheses_IsParsed()
    {
        using var dir = new TempDirectory();
        var sleep = new[] { "/usr/bin/sleep", "/bin/sleep" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("sleep (coreutils) is required by this test and was not found");
        var oddName = dir.Combine("x) (y z) 1");
        File.CreateSymbolicLink(oddName, sleep);
        using var odd = SessionProcess.Start(oddName, "30");
        var sampler = new ProcessTreeSampler(TimeProvider.System);

        // Until setsid has exec'd the program, the process is still called setsid.
        // The stat line is read before the sample: a sample taken mid-exec may see the old image or rss 0.
        var stats = await SampleUntilAsync(sampler, odd.Pid, s => s.ProcessCount == 1 && s.RssBytes > 0 && ReadStat(odd.Pid).Contains("(x) (y z) 1)", StringComparison.Ordinal));

        Assert.Contains("(x) (y z) 1)", ReadStat(odd.Pid), StringComparison.Ordinal);
        Assert.Equal(1, stats.ProcessCount);
        Assert.True(stats.RssBytes > 0);
    }

    [Fact]
    public async Task Sample_ManySessions_EachGetsItsOwnTree()
    {
        var trees = Enumerable.Range(1, 5).Select(i => SessionProcess.StartScript(string.Concat(Enumerable.Repeat("sleep 30 & ", i)) + "wait")).ToList();
        try
        {
            var sampler = new ProcessTreeSampler(TimeProvider.System);
            var pids = trees.Select(t => t.Pid).ToList();
            IReadOnlyDictionary<int, TaskStats> stats = new Dictionary<int, TaskStats>();
            var deadline = DateTime.UtcNow + Bound;
            while (DateTime.UtcNow < deadline)
            {
                stats = sampler.Sample(pids);
                if (pids.Select((pid, i) => stats.TryGetValue(pid, out var s) && s.ProcessCount == i + 2).All(ok => ok))
                {
                    break;
                }
                await Task.Delay(50);
            }

            for (var i = 0; i < pids.Count; i++)
            {
                Assert.Equal(i + 2, stats[pids[i]].ProcessCount);
            }
        }
        finally
        {
            trees.ForEach(t => t.Dispose());
        }
    }

    [Fact]
    public async Task Sample_SessionKilled_IsAbsent()
    {
        var tree = SessionProcess.StartScript("sleep 30 & wait");
        var sampler = new ProcessTreeSampler(TimeProvider.System);
        await SampleUntilAsync(sampler, tree.Pid, s => s.ProcessCount == 2);

        tree.Dispose();
        var deadline = DateTime.UtcNow + Bound;
        while (sampler.Sample([tree.Pid]).ContainsKey(tree.Pid) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.Empty(sampler.Sample([tree.Pid]));
    }

    [Fact]
    public void Sample_NoSessions_IsEmpty() =>
        Assert.Empty(new ProcessTreeSampler(TimeProvider.System).Sample([]));

    [Fact]
    public async Task Sample_StampsTheInjectedClock()
    {
        using var tree = SessionProcess.StartScript("sleep 30");
        var time = new ManualTimeProvider();
        var sampler = new ProcessTreeSampler(time);
        await SampleUntilAsync(sampler, tree.Pid, s => s.ProcessCount >= 1);
        time.Advance(TimeSpan.FromSeconds(2));

        var stats = sampler.Sample([tree.Pid])[tree.Pid];

        Assert.Equal(time.GetUtcNow(), stats.At);
        Assert.InRange(stats.CpuPercent, 0, 100);
    }

    private static int? ParentOf(int pid)
    {
        var stat = ReadStat(pid);
        var close = stat.LastIndexOf(')');
        if (close < 0)
        {
            return null;
        }
        var fields = stat[(close + 2)..].Split(' ');
        return int.Parse(fields[1]);
    }

    private static string ReadStat(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return "";
        }
    }

    private static async Task<TaskStats> SampleUntilAsync(ProcessTreeSampler sampler, int pid, Func<TaskStats, bool> condition, TimeSpan? pause = null)
    {
        var deadline = DateTime.UtcNow + Bound;
        TaskStats? last = null;
        while (DateTime.UtcNow < deadline)
        {
            if (sampler.Sample([pid]).TryGetValue(pid, out var stats))
            {
                last = stats;
                if (condition(stats))
                {
                    return stats;
                }
            }
            await Task.Delay(pause ?? TimeSpan.FromMilliseconds(50));
        }
        return last ?? throw new TimeoutException($"session {pid} never appeared in a sample");
    }
}
