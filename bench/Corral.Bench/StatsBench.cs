using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Corral.Agent.Stats;
using Corral.Core;

namespace Corral.Bench;

/// <summary>
/// <c>stats [--tasks 200] [--interval 2s] [--duration 30s]</c>: starts the tasks as sleeping processes, each in its
/// own session, samples them all with <see cref="ProcessTreeSampler"/> every interval, and reports the sampler's CPU
/// cost as a percentage of one core. One warm-up round (JIT) is taken first and not counted.
/// </summary>
internal static partial class StatsBench
{
    private const int RusageThread = 1;
    private const int SigKill = 9;

    public static Task<int> RunAsync(string[] args)
    {
        var tasks = 200;
        var interval = TimeSpan.FromSeconds(2);
        var duration = TimeSpan.FromSeconds(30);
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--tasks" when value is not null:
                    tasks = int.Parse(value, CultureInfo.InvariantCulture);
                    i++;
                    break;
                case "--interval" when value is not null:
                    interval = Durations.Parse(value);
                    i++;
                    break;
                case "--duration" when value is not null:
                    duration = Durations.Parse(value);
                    i++;
                    break;
                default:
                    Console.Error.WriteLine($"stats: unknown or incomplete option '{args[i]}'; usage: stats [--tasks N] [--interval 2s] [--duration 30s]");
                    return Task.FromResult(2);
            }
        }
        return RunAsync(tasks, interval, duration);
    }

    private static async Task<int> RunAsync(int taskCount, TimeSpan interval, TimeSpan duration)
    {
        var setsid = new[] { "/usr/bin/setsid", "/bin/setsid" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("setsid (util-linux) is required");
        var processes = new List<Process>(taskCount);
        try
        {
            for (var i = 0; i < taskCount; i++)
            {
                var info = new ProcessStartInfo(setsid) { UseShellExecute = false };
                info.ArgumentList.Add("sleep");
                info.ArgumentList.Add("3600");
                processes.Add(Process.Start(info) ?? throw new InvalidOperationException("setsid did not start"));
            }
            var pids = processes.Select(p => p.Id).ToArray();

            var sampler = new ProcessTreeSampler(TimeProvider.System);
            // Until setsid has run, a process is still in our session; wait (bounded) until every session exists.
            var seen = 0;
            var ready = Stopwatch.StartNew();
            while (ready.Elapsed < TimeSpan.FromSeconds(30))
            {
                seen = sampler.Sample(pids).Count;
                if (seen == taskCount)
                {
                    break;
                }
                await Task.Delay(100);
            }

            var nodeProcesses = Directory.EnumerateDirectories("/proc").Count(d => int.TryParse(Path.GetFileName(d), out _));
            var rounds = 0;
            var threadCpu = TimeSpan.Zero;
            var processCpu = TimeSpan.Zero;
            var sampleWall = TimeSpan.Zero;
            var minSessions = int.MaxValue;
            using var self = Process.GetCurrentProcess();
            var wall = Stopwatch.StartNew();
            while (wall.Elapsed < duration)
            {
                self.Refresh();
                var processBefore = self.TotalProcessorTime;
                var threadBefore = ThreadCpuTime();
                var callStart = Stopwatch.GetTimestamp();
                var stats = sampler.Sample(pids);
                sampleWall += Stopwatch.GetElapsedTime(callStart);
                threadCpu += ThreadCpuTime() - threadBefore;
                self.Refresh();
                processCpu += self.TotalProcessorTime - processBefore;
                minSessions = Math.Min(minSessions, stats.Count);
                rounds++;

                var nextRound = interval * rounds;
                var wait = nextRound - wall.Elapsed;
                if (wait > TimeSpan.Zero && nextRound < duration)
                {
                    await Task.Delay(wait);
                }
                else if (nextRound >= duration)
                {
                    break;
                }
            }
            var elapsed = wall.Elapsed;
            if (elapsed < duration)
            {
                await Task.Delay(duration - elapsed);
                elapsed = wall.Elapsed;
            }

            var threadPercent = threadCpu / elapsed * 100;
            var processPercent = processCpu / elapsed * 100;
            var msPerRoundWall = sampleWall.TotalMilliseconds / rounds;
            var msPerRoundCpu = threadCpu.TotalMilliseconds / rounds;

            Console.WriteLine("stats: ProcessTreeSampler over sleeping tasks, each in its own session");
            Console.WriteLine();
            Row("tasks", taskCount.ToString(CultureInfo.InvariantCulture));
            Row("sessions seen (min over rounds)", minSessions.ToString(CultureInfo.InvariantCulture));
            Row("processes on the node", nodeProcesses.ToString(CultureInfo.InvariantCulture));
            Row("interval", Durations.Format(interval));
            Row("wall time", Durations.Format(elapsed));
            Row("rounds", rounds.ToString(CultureInfo.InvariantCulture));
            Row("ms per round (wall)", msPerRoundWall.ToString("F2", CultureInfo.InvariantCulture));
            Row("ms per round (sampling thread CPU)", msPerRoundCpu.ToString("F2", CultureInfo.InvariantCulture));
            Row("sampler CPU, % of one core (thread)", threadPercent.ToString("F3", CultureInfo.InvariantCulture));
            Row("sampler CPU, % of one core (whole process)", processPercent.ToString("F3", CultureInfo.InvariantCulture));
            Row("target", "< 2 % of one core");
            Console.WriteLine();
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["command"] = "stats",
                ["tasks"] = taskCount,
                ["sessions_seen"] = minSessions,
                ["node_processes"] = nodeProcesses,
                ["interval_s"] = interval.TotalSeconds,
                ["wall_s"] = Math.Round(elapsed.TotalSeconds, 3),
                ["rounds"] = rounds,
                ["ms_per_round_wall"] = Math.Round(msPerRoundWall, 3),
                ["ms_per_round_cpu"] = Math.Round(msPerRoundCpu, 3),
                ["sampler_cpu_percent_of_core"] = Math.Round(threadPercent, 4),
                ["process_cpu_percent_of_core"] = Math.Round(processPercent, 4),
                ["target_percent_of_core"] = 2,
            }));
            return minSessions == taskCount ? 0 : 1;
        }
        finally
        {
            foreach (var process in processes)
            {
                _ = Kill(-process.Id, SigKill);
            }
            foreach (var process in processes)
            {
                process.WaitForExit(10_000);
                process.Dispose();
            }
        }
    }

    private static void Row(string name, string value) => Console.WriteLine($"  {name,-44} {value}");

    private static TimeSpan ThreadCpuTime()
    {
        if (GetRusage(RusageThread, out var usage) != 0)
        {
            throw new InvalidOperationException($"getrusage failed: errno {Marshal.GetLastPInvokeError()}");
        }
        var micros = (usage.UserSeconds * 1_000_000) + usage.UserMicros + (usage.SystemSeconds * 1_000_000) + usage.SystemMicros;
        return TimeSpan.FromTicks(micros * 10);
    }

    [DllImport("libc", EntryPoint = "getrusage", SetLastError = true)]
    private static extern int GetRusage(int who, out Rusage usage);

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    [StructLayout(LayoutKind.Sequential)]
    private struct Rusage
    {
        public long UserSeconds;
        public long UserMicros;
        public long SystemSeconds;
        public long SystemMicros;
#pragma warning disable IDE0051, IDE0044, CS0169 // The rest of struct rusage, present only for its size.
        private long _maxRss, _ixRss, _idRss, _isRss, _minFlt, _majFlt, _nSwap, _inBlock, _ouBlock, _msgSnd, _msgRcv, _nSignals, _nvCsw, _nivCsw;
#pragma warning restore IDE0051, IDE0044, CS0169
    }
}
