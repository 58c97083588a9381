using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Corral.Agent.Runtime;
using Corral.Agent.Supervisor;
using Corral.Core.Tasks;
using Corral.Testing;

namespace Corral.Agent.Tests.Runtime;

/// <summary>
/// A real <c>corral agent --tasks</c> process (which starts its own <c>corral supervisor</c>) on a temp data dir.
/// On dispose every process it led to is killed: the agent, the supervisor and every task session recorded.
/// </summary>
internal sealed class AgentHost : IAsyncDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private static int _hosts;

    public AgentHost()
    {
        Dir = new TempDirectory("corral-agent");
        Reaper = new ProcessReaper();
        DataDir = Dir.Combine("data");
        TasksFile = Dir.Combine("tasks.json");
    }

    public TempDirectory Dir { get; }

    public ProcessReaper Reaper { get; }

    public string DataDir { get; }

    public string TasksFile { get; }

    public Process? Agent { get; private set; }

    /// <summary>A port range of its own per host, so agents of tests running in parallel never race for a port.</summary>
    public string PortRange { get; } = RangeFor(Interlocked.Increment(ref _hosts));

    private static string RangeFor(int host)
    {
        var first = 21000 + ((host * 150) % 11000);
        return $"{first}-{first + 149}";
    }

    public SupervisorClient Supervisor => new(Path.Combine(DataDir, "supervisor", "supervisor.sock"));

    /// <summary>Writes the tasks file (JSON text, task id to spec).</summary>
    public void WriteTasks(JsonObject tasks)
    {
        var temp = TasksFile + ".tmp";
        File.WriteAllText(temp, tasks.ToJsonString());
        File.Move(temp, TasksFile, overwrite: true);
    }

    /// <summary>Starts the agent and waits until its status file lists <paramref name="expectedTasks"/> replicas.</summary>
    public async Task StartAsync(int expectedTasks)
    {
        Agent = Reaper.Start(CorralBinary.Dotnet, [CorralBinary.Dll, "agent", "--data-dir", DataDir, "--tasks", TasksFile, "--ports", PortRange], Dir.Combine("agent.out"));
        var pid = Agent.Id;
        await Eventually.TrueAsync(
            () => Status() is { } s && s.AgentPid == pid && s.Replicas.Count == expectedTasks,
            Patience,
            "the agent to list its replicas in status.json" + Environment.NewLine + Output());
        TrackEverything();
    }

    /// <summary>What the agent process itself printed (not its supervisor).</summary>
    public string AgentOutput() => File.Exists(Dir.Combine("agent.out")) ? File.ReadAllText(Dir.Combine("agent.out")) : string.Empty;

    public string Output() =>
        (File.Exists(Dir.Combine("agent.out")) ? File.ReadAllText(Dir.Combine("agent.out")) : string.Empty)
        + (File.Exists(Path.Combine(DataDir, "supervisor", "supervisor.out")) ? File.ReadAllText(Path.Combine(DataDir, "supervisor", "supervisor.out")) : string.Empty);

    public AgentStatusFile? Status()
    {
        var path = Path.Combine(DataDir, "status.json");
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize<AgentStatusFile>(File.ReadAllBytes(path), AgentJson.Options) : null;
        }
        catch (Exception ex) when (ex is IOException or JsonException)
        {
            return null;
        }
    }

    /// <summary>Waits until <paramref name="condition"/> holds for the replica <paramref name="id"/>, and returns that view.</summary>
    public async Task<ReplicaView> WaitForAsync(string id, Func<ReplicaView, bool> condition, string what, TimeSpan? timeout = null)
    {
        ReplicaView view;
        try
        {
            view = await Eventually.ValueAsync(
                () => Task.FromResult(Status()?.Replicas.GetValueOrDefault(id) is { } v && condition(v) ? v : null),
                timeout ?? Patience,
                $"replica {id}: {what}");
        }
        catch (TimeoutException e)
        {
            var listed = Status() is { } status ? string.Join(", ", status.Replicas.Keys) : "no status file";
            throw new TimeoutException($"{e.Message} (at the end: {Describe(id)}; replicas listed: {listed})\n{Output()}", e);
        }
        TrackEverything();
        return view;
    }

    public Task<ReplicaView> WaitForStateAsync(string id, ReplicaState state, TimeSpan? timeout = null) =>
        WaitForAsync(id, v => v.State == state, state.ToString(), timeout);

    public string Describe(string id) =>
        Status()?.Replicas.GetValueOrDefault(id) is { } v ? $"{v.State} since {v.Since:HH:mm:ss.fff}: {v.Reason}" : "not listed";

    /// <summary>The lines the agent delivered for <paramref name="id"/>: (offset, next offset, text).</summary>
    public IReadOnlyList<(long Offset, long Next, string Text)> Delivered(string id)
    {
        var path = Path.Combine(DataDir, "logs", id + ".log");
        if (!File.Exists(path))
        {
            return [];
        }
        var result = new List<(long, long, string)>();
        foreach (var line in File.ReadAllLines(path))
        {
            var fields = line.Split(' ', 5);
            result.Add((long.Parse(fields[0], CultureInfo.InvariantCulture), long.Parse(fields[1], CultureInfo.InvariantCulture), fields[4]));
        }
        return result;
    }

    public int SupervisorPid() => int.Parse(File.ReadAllText(Path.Combine(DataDir, "supervisor", "supervisor.pid")).Trim(), CultureInfo.InvariantCulture);

    /// <summary>Registers every process the agent led to (supervisor, tasks) with the reaper.</summary>
    public void TrackEverything()
    {
        var pidFile = Path.Combine(DataDir, "supervisor", "supervisor.pid");
        if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var supervisor))
        {
            Reaper.TrackSession(supervisor);
        }
        var states = Path.Combine(DataDir, "supervisor", "tasks");
        if (Directory.Exists(states))
        {
            foreach (var file in Directory.GetFiles(states, "state.json", SearchOption.AllDirectories))
            {
                try
                {
                    var info = JsonSerializer.Deserialize(File.ReadAllBytes(file), SupervisorJsonContext.Default.SupervisedTaskInfo);
                    if (info is { Pid: > 0 })
                    {
                        Reaper.TrackSession(info.Pid);
                    }
                }
                catch (Exception ex) when (ex is IOException or JsonException)
                {
                }
            }
        }
        foreach (var view in Status()?.Replicas.Values ?? [])
        {
            if (view.Pid > 0)
            {
                Reaper.TrackSession(view.Pid);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        // The agent starts a new supervisor whenever its supervisor dies: stop the agent first, so that the supervisor
        // found below is the last one and the reaper's kills cannot be undone behind its back.
        if (Agent is { } agent)
        {
            try
            {
                if (!agent.HasExited)
                {
                    agent.Kill();
                    agent.WaitForExit(TimeSpan.FromSeconds(10));
                }
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
        }
        TrackEverything();
        Reaper.Dispose();
        KillAnythingMentioning(DataDir);
        await Task.Yield();
        Dir.Dispose();
    }

    /// <summary>
    /// Last resort: SIGKILL every process whose command line names <paramref name="path"/> (this host's unique temp
    /// dir), e.g. a supervisor started in the instant before the agent was killed.
    /// </summary>
    private static void KillAnythingMentioning(string path)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }
            try
            {
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                if (cmdline.Contains(path, StringComparison.Ordinal))
                {
                    using var process = Process.GetProcessById(pid);
                    process.Kill(entireProcessTree: true);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // Gone in the meantime, or not ours to read.
            }
        }
    }

    /// <summary>A task spec as JSON.</summary>
    public static JsonObject Shell(string script, JsonObject? extra = null)
    {
        var task = new JsonObject
        {
            ["command"] = "/bin/sh",
            ["args"] = new JsonArray("-c", script),
        };
        foreach (var (key, value) in extra ?? [])
        {
            task[key] = value?.DeepClone();
        }
        return task;
    }
}
