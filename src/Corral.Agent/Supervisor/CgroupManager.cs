using Corral.Core.Tasks;
using System.Globalization;

namespace Corral.Agent.Supervisor;

/// <summary>
/// One cgroup per task under the supervisor's own cgroup, where the node lets us write one: cgroup v2
/// (memory.max, cpu.weight, cpu.max, cgroup.kill), or the v1 memory and cpu controllers
/// (memory.limit_in_bytes, cpu.shares, cpu.cfs_quota_us). A task's cgroup holds its whole tree, even
/// processes that left its process group, so killing the cgroup leaves nothing behind.
/// Where nothing can be written the task runs without one and its limits are reported as not enforced.
/// </summary>
internal sealed class CgroupManager
{
    private const string Root = "/sys/fs/cgroup";
    private const long CpuPeriodMicros = 100_000;

    private readonly string? _v2Base;
    private readonly bool _v2Memory;
    private readonly bool _v2Cpu;
    private readonly string? _v1MemoryBase;
    private readonly string? _v1CpuBase;
    private readonly string _unavailable;

    private CgroupManager(string mode, string? v2Base, bool v2Memory, bool v2Cpu, string? v1MemoryBase, string? v1CpuBase, string unavailable)
    {
        Mode = mode;
        _v2Base = v2Base;
        _v2Memory = v2Memory;
        _v2Cpu = v2Cpu;
        _v1MemoryBase = v1MemoryBase;
        _v1CpuBase = v1CpuBase;
        _unavailable = unavailable;
    }

    /// <summary><c>v2</c>, <c>v1</c>, or <c>none: REASON</c>.</summary>
    public string Mode { get; }

    /// <summary>Finds the supervisor's own cgroups and prepares <c>corral-tasks/KEY</c> under them (one key per data directory).</summary>
    public static CgroupManager Detect(string key)
    {
        try
        {
            var lines = File.ReadAllLines("/proc/self/cgroup");
            if (File.Exists(Path.Combine(Root, "cgroup.controllers")))
            {
                return DetectV2(lines, key);
            }
            return DetectV1(lines, key);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return None("cannot read cgroups: " + ex.Message);
        }
    }

    private static CgroupManager None(string reason) => new("none: " + reason, null, false, false, null, null, reason);

    private static CgroupManager DetectV2(string[] lines, string key)
    {
        var own = lines.FirstOrDefault(l => l.StartsWith("0::", StringComparison.Ordinal))?[3..] ?? "/";
        var ownDir = Root + own.TrimEnd('/');
        var controllers = SafeRead(Path.Combine(ownDir, "cgroup.controllers")).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var enabled = EnableControllers(ownDir, controllers);
        if (!enabled.Contains("memory") || !enabled.Contains("cpu"))
        {
            // Internal processes block enabling controllers below a non-root cgroup: move the supervisor
            // into a leaf of its own when it is alone there, then try again.
            var procs = SafeRead(Path.Combine(ownDir, "cgroup.procs")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            if (procs.Length == 1 && procs[0] == Environment.ProcessId.ToString(CultureInfo.InvariantCulture))
            {
                try
                {
                    var leaf = Path.Combine(ownDir, "corral-supervisor");
                    Directory.CreateDirectory(leaf);
                    File.WriteAllText(Path.Combine(leaf, "cgroup.procs"), procs[0]);
                    enabled = EnableControllers(ownDir, controllers);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    // Fall through: tasks still get a cgroup each for tracking and killing.
                }
            }
        }
        var baseDir = Path.Combine(ownDir, "corral-tasks", key);
        try
        {
            var parent = Path.Combine(ownDir, "corral-tasks");
            foreach (var dir in new[] { parent, baseDir })
            {
                Directory.CreateDirectory(dir);
                foreach (var controller in enabled)
                {
                    TryWrite(Path.Combine(dir, "cgroup.subtree_control"), "+" + controller);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return None($"cannot create {baseDir}: {ex.Message}");
        }
        var reason = enabled.Contains("memory") && enabled.Contains("cpu")
            ? string.Empty
            : $"cgroup v2 controllers memory and cpu cannot be enabled under {ownDir}";
        return new CgroupManager("v2", baseDir, enabled.Contains("memory"), enabled.Contains("cpu"), null, null, reason);
    }

    private static HashSet<string> EnableControllers(string dir, string[] available)
    {
        var enabled = new HashSet<string>(SafeRead(Path.Combine(dir, "cgroup.subtree_control")).Split(' ', StringSplitOptions.RemoveEmptyEntries));
        foreach (var controller in new[] { "memory", "cpu" })
        {
            if (!enabled.Contains(controller) && available.Contains(controller)
                && TryWrite(Path.Combine(dir, "cgroup.subtree_control"), "+" + controller))
            {
                enabled.Add(controller);
            }
        }
        return enabled;
    }

    private static CgroupManager DetectV1(string[] lines, string key)
    {
        string? Base(string controller)
        {
            foreach (var line in lines)
            {
                var parts = line.Split(':', 3);
                if (parts.Length == 3 && parts[1].Split(',').Contains(controller))
                {
                    var mount = Path.Combine(Root, parts[1]);
                    if (!Directory.Exists(mount))
                    {
                        mount = Path.Combine(Root, controller);
                    }
                    var dir = Path.Combine(mount + parts[2].TrimEnd('/'), "corral-tasks", key);
                    try
                    {
                        Directory.CreateDirectory(dir);
                        return dir;
                    }
                    catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                    {
                        return null;
                    }
                }
            }
            return null;
        }
        var memory = Base("memory");
        var cpu = Base("cpu");
        if (memory is null && cpu is null)
        {
            return None("no writable cgroup v1 memory or cpu hierarchy");
        }
        var reason = memory is null ? "cgroup v1 memory controller not writable" : cpu is null ? "cgroup v1 cpu controller not writable" : string.Empty;
        return new CgroupManager("v1", null, false, false, memory, cpu, reason);
    }

    /// <summary>
    /// Makes (or reuses) the task's cgroup(s) and writes its limits; limits it no longer has are reset. Whatever
    /// is still in a reused cgroup (processes that outlived a previous run) is killed first.
    /// </summary>
    public CgroupPlacement Create(string taskId, long generation, long? memoryBytes, double? cpu)
    {
        var wantsLimits = memoryBytes is not null || cpu is not null;
        // One cgroup per task id, kept across its runs (a restart costs no mkdir/rmdir); removed with the task.
        _ = generation;
        var name = taskId;
        var notes = new List<string>();
        var dirs = new List<string>();
        if (_v2Base is not null)
        {
            var dir = Path.Combine(_v2Base, name);
            if (MakeFresh(dir, notes))
            {
                dirs.Add(dir);
                if (memoryBytes is { } m)
                {
                    WriteLimit(_v2Memory, dir, "memory.max", m.ToString(CultureInfo.InvariantCulture), "memory", notes);
                }
                else if (_v2Memory)
                {
                    TryWrite(Path.Combine(dir, "memory.max"), "max");
                }
                if (cpu is null && _v2Cpu)
                {
                    TryWrite(Path.Combine(dir, "cpu.max"), "max " + CpuPeriodMicros.ToString(CultureInfo.InvariantCulture));
                    TryWrite(Path.Combine(dir, "cpu.weight"), "100");
                }
                if (cpu is { } c)
                {
                    var weight = Math.Clamp((int)Math.Round(c * 100), 1, 10_000);
                    var quota = Math.Max(1000, (long)Math.Round(c * CpuPeriodMicros));
                    WriteLimit(_v2Cpu, dir, "cpu.weight", weight.ToString(CultureInfo.InvariantCulture), "cpu", notes);
                    WriteLimit(_v2Cpu, dir, "cpu.max", $"{quota.ToString(CultureInfo.InvariantCulture)} {CpuPeriodMicros.ToString(CultureInfo.InvariantCulture)}", "cpu", notes);
                }
            }
        }
        else
        {
            if (_v1MemoryBase is not null)
            {
                var dir = Path.Combine(_v1MemoryBase, name);
                if (MakeFresh(dir, notes))
                {
                    dirs.Add(dir);
                    if (memoryBytes is { } m)
                    {
                        WriteLimit(true, dir, "memory.limit_in_bytes", m.ToString(CultureInfo.InvariantCulture), "memory", notes);
                    }
                    else
                    {
                        TryWrite(Path.Combine(dir, "memory.limit_in_bytes"), "-1");
                    }
                }
            }
            else if (memoryBytes is not null)
            {
                notes.Add(_unavailable.Length > 0 ? _unavailable : "no memory cgroup");
            }
            if (_v1CpuBase is not null && cpu is { } c)
            {
                var dir = Path.Combine(_v1CpuBase, name);
                if (MakeFresh(dir, notes))
                {
                    dirs.Add(dir);
                    var shares = Math.Max(2, (int)Math.Round(c * 1024));
                    var quota = Math.Max(1000, (long)Math.Round(c * CpuPeriodMicros));
                    WriteLimit(true, dir, "cpu.shares", shares.ToString(CultureInfo.InvariantCulture), "cpu", notes);
                    WriteLimit(true, dir, "cpu.cfs_period_us", CpuPeriodMicros.ToString(CultureInfo.InvariantCulture), "cpu", notes);
                    WriteLimit(true, dir, "cpu.cfs_quota_us", quota.ToString(CultureInfo.InvariantCulture), "cpu", notes);
                }
            }
            else if (cpu is not null)
            {
                notes.Add(_unavailable.Length > 0 ? _unavailable : "no cpu cgroup");
            }
        }
        if (_v2Base is null && _v1MemoryBase is null && _v1CpuBase is null && wantsLimits)
        {
            notes.Add(_unavailable);
        }
        var note = wantsLimits && notes.Count > 0 ? "limits not enforced: " + string.Join("; ", notes.Distinct()) : null;
        return new CgroupPlacement(dirs, note);
    }

    /// <summary>Moves a process into the task's cgroups; false (and the reason) when the kernel refused.</summary>
    public static string? AddProcess(IReadOnlyList<string> dirs, int pid)
    {
        foreach (var dir in dirs)
        {
            try
            {
                File.WriteAllText(Path.Combine(dir, "cgroup.procs"), pid.ToString(CultureInfo.InvariantCulture));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return $"cannot move the task into {dir}: {ex.Message}";
            }
        }
        return null;
    }

    /// <summary>SIGKILLs every process in the cgroups, in bounded rounds, until they are empty.</summary>
    public static void Kill(IReadOnlyList<string> dirs) => KillAsync(dirs).GetAwaiter().GetResult();

    /// <summary>SIGKILLs every process in the cgroups, in bounded rounds, until they are empty; waits without blocking a thread.</summary>
    public static async Task KillAsync(IReadOnlyList<string> dirs)
    {
        foreach (var dir in dirs)
        {
            if (!Directory.Exists(dir))
            {
                continue;
            }
            var killFile = Path.Combine(dir, "cgroup.kill");
            if (File.Exists(killFile))
            {
                TryWrite(killFile, "1");
            }
            for (var round = 0; round < 100; round++)
            {
                var pids = ReadPids(dir);
                if (pids.Count == 0)
                {
                    break;
                }
                foreach (var pid in pids)
                {
                    Interop.kill(pid, Signals.SigKill);
                }
                await Task.Delay(5).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Kills what is left in the cgroups and removes them; a cgroup still busy is left for a later cleanup.</summary>
    public static void Remove(IReadOnlyList<string> dirs) => RemoveAsync(dirs).GetAwaiter().GetResult();

    /// <summary>Kills what is left in the cgroups and removes them, waiting without blocking a thread.</summary>
    public static async Task RemoveAsync(IReadOnlyList<string> dirs)
    {
        await KillAsync(dirs).ConfigureAwait(false);
        foreach (var dir in dirs)
        {
            for (var attempt = 0; attempt < 20 && Directory.Exists(dir); attempt++)
            {
                try
                {
                    Directory.Delete(dir);
                }
                catch (IOException)
                {
                    await Task.Delay(10).ConfigureAwait(false);
                }
                catch (UnauthorizedAccessException)
                {
                    break;
                }
            }
        }
    }

    /// <summary>Every task cgroup under this supervisor's base(s), for cleanup at start.</summary>
    public IReadOnlyList<string> Existing()
    {
        var result = new List<string>();
        foreach (var dir in new[] { _v2Base, _v1MemoryBase, _v1CpuBase })
        {
            if (dir is not null && Directory.Exists(dir))
            {
                result.AddRange(Directory.GetDirectories(dir));
            }
        }
        return result;
    }

    private static List<int> ReadPids(string dir)
    {
        var text = SafeRead(Path.Combine(dir, "cgroup.procs"));
        var pids = new List<int>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                pids.Add(pid);
            }
        }
        return pids;
    }

    private static bool MakeFresh(string dir, List<string> notes)
    {
        try
        {
            if (Directory.Exists(dir))
            {
                Kill([dir]);
                return true;
            }
            Directory.CreateDirectory(dir);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            notes.Add($"cannot create cgroup {dir}: {ex.Message}");
            return false;
        }
    }

    private static void WriteLimit(bool controllerEnabled, string dir, string file, string value, string controller, List<string> notes)
    {
        if (!controllerEnabled)
        {
            notes.Add($"cgroup {controller} controller not available");
            return;
        }
        var path = Path.Combine(dir, file);
        try
        {
            File.WriteAllText(path, value);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            notes.Add($"cannot write {path}: {ex.Message}");
        }
    }

    private static string SafeRead(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return string.Empty;
        }
    }

    private static bool TryWrite(string path, string value)
    {
        try
        {
            File.WriteAllText(path, value);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
