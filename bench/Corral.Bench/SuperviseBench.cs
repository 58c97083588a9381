using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Corral.Agent.Supervisor;
using Corral.Testing;

namespace Corral.Bench;

/// <summary>
/// <c>supervise [--crashes 200] [--tasks 100]</c>: in one run, with the real binaries,
/// (1) crash-to-restarted latency over N crashes with zero back-off, for <c>corral agent</c> (through its supervisor)
/// and for supervisord (<c>autorestart=true</c>, <c>startsecs=0</c>) restarting the same crashing program, measured
/// the same way from timestamps the program itself writes at start and just before it exits;
/// (2) the time for <c>corral supervisor</c> to start 100 tasks (concurrent requests until all run), and for
/// <c>corral agent</c> to have them all healthy from a cold start;
/// (3) supervisor RSS with 0 and with 100 tasks, and the per-task overhead; (4) agent RSS when idle.
/// </summary>
internal static class SuperviseBench
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(10);
    private static long _pss0Kb;
    private static long _pssTasksKb;

    public static async Task<int> RunAsync(string[] args)
    {
        var crashes = 200;
        var tasks = 100;
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--crashes" when value is not null:
                    crashes = int.Parse(value, CultureInfo.InvariantCulture);
                    i++;
                    break;
                case "--tasks" when value is not null:
                    tasks = int.Parse(value, CultureInfo.InvariantCulture);
                    i++;
                    break;
                default:
                    Console.Error.WriteLine($"supervise: unknown or incomplete option '{args[i]}'; usage: supervise [--crashes 200] [--tasks 100]");
                    return 2;
            }
        }
        var supervisord = FindOnPath("supervisord")
            ?? throw new InvalidOperationException("supervisord not found: run scripts/install-deps.sh (Debian package 'supervisor')");
        var dotnet = FindOnPath("dotnet") ?? throw new InvalidOperationException("dotnet not found on PATH");
        var corral = Path.Combine(AppContext.BaseDirectory, "corral.dll");

        using var dir = new TempDirectory("corral-bench");
        Console.Error.WriteLine($"supervise: corral restart latency over {crashes} crashes...");
        var corralLatency = await CorralRestartLatencyAsync(dir, dotnet, corral, crashes);
        Console.Error.WriteLine($"supervise: supervisord restart latency over {crashes} crashes (about one per second)...");
        var supervisordLatency = await SupervisordRestartLatencyAsync(dir, supervisord, crashes);
        Console.Error.WriteLine($"supervise: starting {tasks} tasks...");
        var (startSeconds, rss0, rssN) = await SupervisorStartAndMemoryAsync(dir, dotnet, corral, tasks);
        var agentStartSeconds = await AgentColdStartAsync(dir, dotnet, corral, tasks);
        Console.Error.WriteLine("supervise: agent idle memory...");
        var agentRss = await AgentIdleRssAsync(dir, dotnet, corral);
        var perTaskKb = (rssN - rss0) / (double)tasks;

        Console.WriteLine($"| figure | corral | supervisord |");
        Console.WriteLine($"| --- | --- | --- |");
        Console.WriteLine($"| restart latency p50 ({crashes} crashes, zero back-off) | {Percentile(corralLatency, 50):0.0} ms | {Percentile(supervisordLatency, 50):0.0} ms |");
        Console.WriteLine($"| restart latency p99 | {Percentile(corralLatency, 99):0.0} ms | {Percentile(supervisordLatency, 99):0.0} ms |");
        Console.WriteLine($"| restart latency max | {corralLatency.Max():0.0} ms | {supervisordLatency.Max():0.0} ms |");
        Console.WriteLine($"| start {tasks} tasks (supervisor, concurrent requests) | {startSeconds:0.000} s | |");
        Console.WriteLine($"| {tasks} tasks healthy from agent cold start | {agentStartSeconds:0.000} s | |");
        Console.WriteLine($"| supervisor RSS, 0 tasks | {rss0 / 1024.0:0.0} MB | |");
        Console.WriteLine($"| supervisor RSS, {tasks} tasks | {rssN / 1024.0:0.0} MB | |");
        Console.WriteLine($"| supervisor overhead per task | {perTaskKb:0.0} KB | |");
        Console.WriteLine($"| supervisor PSS, 0 / {tasks} tasks (shared runtime pages split) | {_pss0Kb / 1024.0:0.0} / {_pssTasksKb / 1024.0:0.0} MB | |");
        Console.WriteLine($"| agent RSS, idle | {agentRss / 1024.0:0.0} MB | |");
        var json = new Dictionary<string, object>
        {
            ["command"] = "supervise",
            ["crashes"] = crashes,
            ["corral_restart_p50_ms"] = Round(Percentile(corralLatency, 50)),
            ["corral_restart_p99_ms"] = Round(Percentile(corralLatency, 99)),
            ["supervisord_restart_p50_ms"] = Round(Percentile(supervisordLatency, 50)),
            ["supervisord_restart_p99_ms"] = Round(Percentile(supervisordLatency, 99)),
            ["tasks"] = tasks,
            ["supervisor_start_tasks_s"] = Round(startSeconds, 3),
            ["agent_cold_start_tasks_healthy_s"] = Round(agentStartSeconds, 3),
            ["supervisor_rss_0_kb"] = rss0,
            ["supervisor_rss_tasks_kb"] = rssN,
            ["supervisor_per_task_kb"] = Round(perTaskKb),
            ["supervisor_pss_0_kb"] = _pss0Kb,
            ["supervisor_pss_tasks_kb"] = _pssTasksKb,
            ["agent_idle_rss_kb"] = agentRss,
        };
        Console.WriteLine(JsonSerializer.Serialize(json));
        return 0;
    }

    private const string CrashScript = "date +%s%N >> starts; date +%s%N >> exits; exit 1";

    private static async Task<List<double>> CorralRestartLatencyAsync(TempDirectory dir, string dotnet, string corral, int crashes)
    {
        var root = dir.Combine("corral-crash");
        Directory.CreateDirectory(root);
        var tasksFile = Path.Combine(root, "tasks.json");
        var task = new Dictionary<string, object>
        {
            ["command"] = "/bin/sh",
            ["args"] = new[] { "-c", CrashScript },
            ["restart"] = new Dictionary<string, object> { ["mode"] = "always", ["max_attempts"] = crashes * 10, ["window"] = "1h", ["backoff"] = "0s", ["max_backoff"] = "0s", ["jitter"] = 0 },
        };
        await File.WriteAllTextAsync(tasksFile, JsonSerializer.Serialize(new Dictionary<string, object> { ["crash"] = task }));
        var data = Path.Combine(root, "data");
        using var reaper = new ProcessReaper();
        reaper.Start(dotnet, [corral, "agent", "--data-dir", data, "--tasks", tasksFile], Path.Combine(root, "agent.out"));
        var taskDir = Path.Combine(data, "tasks", "crash");
        try
        {
            await WaitAsync(() => Lines(Path.Combine(taskDir, "starts")) > crashes && Lines(Path.Combine(taskDir, "exits")) >= crashes, "corral to restart the crashing task " + crashes + " times");
        }
        finally
        {
            var pidFile = Path.Combine(data, "supervisor", "supervisor.pid");
            if (File.Exists(pidFile))
            {
                reaper.TrackSession(int.Parse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture));
            }
        }
        reaper.Dispose();
        return Latencies(Path.Combine(taskDir, "starts"), Path.Combine(taskDir, "exits"), crashes);
    }

    private static async Task<List<double>> SupervisordRestartLatencyAsync(TempDirectory dir, string supervisord, int crashes)
    {
        var root = dir.Combine("supervisord");
        Directory.CreateDirectory(root);
        var config = Path.Combine(root, "supervisord.conf");
        await File.WriteAllTextAsync(config, $"""
            [supervisord]
            nodaemon=true
            logfile={root}/supervisord.log
            pidfile={root}/supervisord.pid
            childlogdir={root}

            [program:crash]
            command=/bin/sh -c "{CrashScript.Replace("%", "%%", StringComparison.Ordinal)}"
            directory={root}
            autorestart=true
            startsecs=0
            startretries={crashes * 10}
            """);
        using var reaper = new ProcessReaper();
        reaper.Start(supervisord, ["-c", config], Path.Combine(root, "supervisord.out"));
        await WaitAsync(() => Lines(Path.Combine(root, "starts")) > crashes && Lines(Path.Combine(root, "exits")) >= crashes, "supervisord to restart the crashing program " + crashes + " times");
        reaper.Dispose();
        return Latencies(Path.Combine(root, "starts"), Path.Combine(root, "exits"), crashes);
    }

    private static async Task<(double StartSeconds, long Rss0Kb, long RssNKb)> SupervisorStartAndMemoryAsync(TempDirectory dir, string dotnet, string corral, int count)
    {
        var root = dir.Combine("supervisor-mem");
        Directory.CreateDirectory(root);
        using var reaper = new ProcessReaper();
        var process = reaper.Start(dotnet, [corral, "supervisor", "--data-dir", root], Path.Combine(root, "supervisor.out"));
        var client = new SupervisorClient(Path.Combine(root, "supervisor.sock"));
        await WaitAsync(() => Try(() => client.HelloAsync(CancellationToken.None).GetAwaiter().GetResult().Pid == process.Id), "the supervisor to answer");
        await client.ListAsync(CancellationToken.None);
        await Task.Delay(TimeSpan.FromSeconds(2));
        var rss0 = Rss(process.Id);
        _pss0Kb = Pss(process.Id);

        var specs = Enumerable.Range(0, count).Select(i =>
        {
            var taskDir = Path.Combine(root, "t", i.ToString(CultureInfo.InvariantCulture));
            Directory.CreateDirectory(taskDir);
            return new SupervisedTaskSpec
            {
                Id = $"task-{i}",
                Command = "/bin/sh",
                Args = ["-c", "echo started; exec sleep 3600"],
                Env = new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin" },
                WorkingDirectory = taskDir,
                LogDirectory = Path.Combine(taskDir, "logs"),
            };
        }).ToList();
        var watch = Stopwatch.StartNew();
        var started = await Task.WhenAll(specs.Select(s => client.StartAsync(s, CancellationToken.None)));
        watch.Stop();
        foreach (var info in started)
        {
            reaper.TrackSession(info.Pid);
        }
        if (started.Any(s => s.State != SupervisedTaskState.Running))
        {
            throw new InvalidOperationException("not every task started");
        }
        await Task.Delay(TimeSpan.FromSeconds(3));
        await client.ListAsync(CancellationToken.None);
        var rssN = Rss(process.Id);
        _pssTasksKb = Pss(process.Id);
        reaper.Dispose();
        return (watch.Elapsed.TotalSeconds, rss0, rssN);
    }

    private static async Task<double> AgentColdStartAsync(TempDirectory dir, string dotnet, string corral, int count)
    {
        var root = dir.Combine("agent-start");
        Directory.CreateDirectory(root);
        var tasksFile = Path.Combine(root, "tasks.json");
        var tasks = Enumerable.Range(0, count).ToDictionary(
            i => $"task-{i}",
            _ => (object)new Dictionary<string, object> { ["command"] = "/bin/sleep", ["args"] = new[] { "3600" } });
        await File.WriteAllTextAsync(tasksFile, JsonSerializer.Serialize(tasks));
        var data = Path.Combine(root, "data");
        using var reaper = new ProcessReaper();
        var watch = Stopwatch.StartNew();
        reaper.Start(dotnet, [corral, "agent", "--data-dir", data, "--tasks", tasksFile], Path.Combine(root, "agent.out"));
        try
        {
            await WaitAsync(() => HealthyCount(Path.Combine(data, "status.json")) == count, $"the agent to have {count} healthy tasks", pollMs: 10);
            watch.Stop();
        }
        finally
        {
            TrackAgentChildren(reaper, data);
        }
        reaper.Dispose();
        return watch.Elapsed.TotalSeconds;
    }

    private static async Task<long> AgentIdleRssAsync(TempDirectory dir, string dotnet, string corral)
    {
        var root = dir.Combine("agent-idle");
        Directory.CreateDirectory(root);
        var tasksFile = Path.Combine(root, "tasks.json");
        await File.WriteAllTextAsync(tasksFile, "{}");
        var data = Path.Combine(root, "data");
        using var reaper = new ProcessReaper();
        var agent = reaper.Start(dotnet, [corral, "agent", "--data-dir", data, "--tasks", tasksFile], Path.Combine(root, "agent.out"));
        try
        {
            await WaitAsync(() => File.Exists(Path.Combine(data, "status.json")), "the agent to write its status");
            // Past start-up and a few stats samples and supervisor checks.
            await Task.Delay(TimeSpan.FromSeconds(6));
            return Rss(agent.Id);
        }
        finally
        {
            TrackAgentChildren(reaper, data);
        }
    }

    private static void TrackAgentChildren(ProcessReaper reaper, string data)
    {
        var pidFile = Path.Combine(data, "supervisor", "supervisor.pid");
        if (File.Exists(pidFile))
        {
            reaper.TrackSession(int.Parse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture));
        }
        var states = Path.Combine(data, "supervisor", "tasks");
        if (Directory.Exists(states))
        {
            foreach (var file in Directory.GetFiles(states, "state.json", SearchOption.AllDirectories))
            {
                var info = JsonSerializer.Deserialize(File.ReadAllBytes(file), SupervisorJsonContext.Default.SupervisedTaskInfo);
                if (info is { Pid: > 0 })
                {
                    reaper.TrackSession(info.Pid);
                }
            }
        }
    }

    private static int HealthyCount(string statusPath)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(statusPath));
            return doc.RootElement.GetProperty("replicas").EnumerateObject().Count(r => r.Value.GetProperty("state").GetString() == "healthy");
        }
        catch (Exception ex) when (ex is IOException or JsonException or KeyNotFoundException)
        {
            return -1;
        }
    }

    /// <summary>Next start minus this exit, in ms, for the first <paramref name="crashes"/> crashes.</summary>
    private static List<double> Latencies(string startsFile, string exitsFile, int crashes)
    {
        var starts = File.ReadAllLines(startsFile).Select(l => long.Parse(l, CultureInfo.InvariantCulture)).ToList();
        var exits = File.ReadAllLines(exitsFile).Select(l => long.Parse(l, CultureInfo.InvariantCulture)).ToList();
        return [.. Enumerable.Range(0, crashes).Select(i => (starts[i + 1] - exits[i]) / 1_000_000.0)];
    }

    private static double Percentile(List<double> values, double percentile)
    {
        var sorted = values.Order().ToList();
        var rank = (int)Math.Ceiling(percentile / 100.0 * sorted.Count) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Count - 1)];
    }

    private static double Round(double value, int digits = 1) => Math.Round(value, digits);

    private static int Lines(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllLines(path).Count(l => l.Length > 0) : 0;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static long Rss(int pid)
    {
        foreach (var line in File.ReadAllLines($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
            }
        }
        throw new InvalidOperationException($"no VmRSS for pid {pid}");
    }

    private static long Pss(int pid)
    {
        foreach (var line in File.ReadAllLines($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/smaps_rollup"))
        {
            if (line.StartsWith("Pss:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
            }
        }
        return 0;
    }

    private static bool Try(Func<bool> probe)
    {
        try
        {
            return probe();
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static async Task WaitAsync(Func<bool> condition, string what, int pollMs = 50)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > Patience)
            {
                throw new TimeoutException($"timed out waiting for {what}");
            }
            await Task.Delay(pollMs);
        }
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);
}
