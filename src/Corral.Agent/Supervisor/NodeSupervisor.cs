using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Corral.Agent.Supervisor;

/// <summary>
/// Owns the task processes of one node: starts each in its own session and process group (and cgroup),
/// pipes its output into its log, reaps its exit, records its state on disk, and stops it with its stop
/// signal then SIGKILL. Its tasks die with it (parent-death signal) and a new instance kills whatever a
/// previous one left behind before serving. All operations are safe to call concurrently.
/// </summary>
public sealed partial class NodeSupervisor : IDisposable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, TaskEntry> _tasks = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly ProcessSpawner _spawner = new();
    private readonly ChildReaper _reaper = new();
    private readonly CgroupManager _cgroups;
    private readonly string _tasksDirectory;
    private readonly string? _setpriv;
    private readonly ILogger<NodeSupervisor> _logger;
    private readonly FenceJournal _fenceJournal;
    private readonly string _ownUser;
    private FileStream? _instanceLock;

    public NodeSupervisor(SupervisorOptions options, TimeProvider time, ILogger<NodeSupervisor> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _fenceJournal = new FenceJournal(logger, time);
        var uid = UserAccount.EffectiveUid.ToString(CultureInfo.InvariantCulture);
        _ownUser = UserAccount.Find(uid)?.Name ?? "uid " + uid;
        Directory.CreateDirectory(options.DataDirectory);
        _tasksDirectory = Path.Combine(options.DataDirectory, "tasks");
        Directory.CreateDirectory(_tasksDirectory);
        _cgroups = CgroupManager.Detect(CgroupKey(options.DataDirectory));
        _setpriv = FindOnPath("setpriv", Environment.GetEnvironmentVariable("PATH"), Environment.CurrentDirectory);
        Hello = new SupervisorHello(
            Environment.ProcessId,
            Guid.NewGuid().ToString("N"),
            time.GetUtcNow(),
            typeof(NodeSupervisor).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown",
            _cgroups.Mode);
    }

    public SupervisorOptions Options { get; }

    /// <summary>This instance's identity.</summary>
    public SupervisorHello Hello { get; }

    /// <summary>
    /// Takes the data directory's instance lock (a second supervisor on the same directory fails here),
    /// then kills everything a previous instance left running and marks those tasks <see cref="SupervisedTaskState.Lost"/>.
    /// </summary>
    public void Initialize()
    {
        var lockPath = Path.Combine(Options.DataDirectory, "supervisor.lock");
        try
        {
            _instanceLock = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new InvalidOperationException($"another supervisor holds {lockPath}: {ex.Message}", ex);
        }
        RecoverPrevious();
        File.WriteAllText(Path.Combine(Options.DataDirectory, "supervisor.pid"), Environment.ProcessId + "\n");
    }

    /// <summary>The task's current info; null when the id is unknown.</summary>
    public SupervisedTaskInfo? Inspect(string id)
    {
        var entry = Find(id);
        if (entry is null)
        {
            return null;
        }
        lock (entry.Gate)
        {
            return WithLiveOffset(entry);
        }
    }

    /// <summary>Every known task, ordered by id.</summary>
    public IReadOnlyList<SupervisedTaskInfo> List()
    {
        TaskEntry[] entries;
        lock (_lock)
        {
            entries = [.. _tasks.Values];
        }
        var result = new List<SupervisedTaskInfo>(entries.Length);
        foreach (var entry in entries)
        {
            lock (entry.Gate)
            {
                result.Add(WithLiveOffset(entry));
            }
        }
        result.Sort((a, b) => string.CompareOrdinal(a.Id, b.Id));
        return result;
    }

    public void Dispose()
    {
        DisposeFences();
        TaskEntry[] entries;
        lock (_lock)
        {
            entries = [.. _tasks.Values];
        }
        foreach (var entry in entries)
        {
            entry.Log?.Dispose();
        }
        _instanceLock?.Dispose();
    }

    private static SupervisedTaskInfo WithLiveOffset(TaskEntry entry) =>
        entry.Log is { } log ? entry.Info with { LogOffset = log.Offset } : entry.Info;

    private TaskEntry? Find(string id)
    {
        lock (_lock)
        {
            return _tasks.GetValueOrDefault(id);
        }
    }

    private string StateDirectory(string id) => Path.Combine(_tasksDirectory, id);

    /// <summary>Writes the task's state file atomically (temp file, then rename).</summary>
    private void Persist(SupervisedTaskInfo info)
    {
        var dir = StateDirectory(info.Id);
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, "state.json");
        var temp = path + ".tmp";
        File.WriteAllBytes(temp, JsonSerializer.SerializeToUtf8Bytes(info, SupervisorJsonContext.Default.SupervisedTaskInfo));
        File.Move(temp, path, overwrite: true);
    }

    private static string CgroupKey(string dataDirectory)
    {
        // FNV-1a: a stable name per data directory without loading the crypto stack (a few MB of RSS).
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(Path.GetFullPath(dataDirectory)))
        {
            hash = (hash ^ b) * 1099511628211UL;
        }
        return hash.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Resolves a command the way execvp would: a name without a slash is looked up on <paramref name="path"/>.</summary>
    internal static string? FindOnPath(string command, string? path, string workingDirectory)
    {
        if (command.Contains('/', StringComparison.Ordinal))
        {
            var full = Path.IsPathRooted(command) ? command : Path.GetFullPath(Path.Combine(workingDirectory, command));
            return File.Exists(full) || Directory.Exists(full) ? full : null;
        }
        foreach (var dir in (path ?? "/usr/local/bin:/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, command);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }
}
