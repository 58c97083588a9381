using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Corral.Testing;

/// <summary>
/// Finds, through /proc, the live processes that belong to one cluster data directory: those whose command line
/// names it (<c>corral dev</c>, <c>corral supervisor</c>), whose working directory is inside it, or whose
/// <c>CORRAL_TASK_DIR</c> is inside it (every task the agent starts).
/// </summary>
public static partial class ClusterProcesses
{
    /// <summary>One live process of the cluster.</summary>
    public sealed record Info(int Pid, int Session, string CommandLine)
    {
        public override string ToString() => $"pid {Pid} (session {Session}): {CommandLine}";
    }

    public static IReadOnlyList<Info> Find(string dataDir)
    {
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(dataDir));
        var result = new List<Info>();
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (fields[0][0] is 'Z' or 'X')
                {
                    continue;
                }
                var session = int.Parse(fields[3], CultureInfo.InvariantCulture);
                var commandLine = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ').Trim();
                if (Contains(commandLine, root) || Inside(Cwd(dir), root) || Inside(TaskDir(dir), root))
                {
                    result.Add(new Info(pid, session, commandLine));
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
            {
                // Gone meanwhile, or not ours to read.
            }
        }
        return result;
    }

    /// <summary>SIGKILLs each process and the process group it leads (tasks and the supervisor lead their own).</summary>
    public static void KillAll(IEnumerable<Info> processes)
    {
        foreach (var process in processes)
        {
            _ = Kill(-process.Session, 9);
            _ = Kill(process.Pid, 9);
        }
    }

    /// <summary>
    /// SIGKILLs every process whose command line names a data dir directly below <paramref name="root"/> (a test's
    /// temp dir holding one data dir per server, agent or etcd member), with the groups they lead.
    /// </summary>
    public static void KillAllUnder(string root)
    {
        foreach (var dir in Directory.GetDirectories(root))
        {
            KillAll(Find(dir));
        }
    }

    /// <summary>Sends <paramref name="signal"/> to one process; false when it does not exist.</summary>
    public static bool Signal(int pid, int signal) => Kill(pid, signal) == 0;

    private static bool Contains(string commandLine, string root) =>
        commandLine.Contains(root + " ", StringComparison.Ordinal) || commandLine.EndsWith(root, StringComparison.Ordinal)
        || commandLine.Contains(root + "/", StringComparison.Ordinal);

    private static bool Inside(string? path, string root) =>
        path is not null && (path == root || path.StartsWith(root + "/", StringComparison.Ordinal));

    private static string? Cwd(string procDir)
    {
        var target = new FileInfo(Path.Combine(procDir, "cwd")).LinkTarget;
        return target is null ? null : Path.TrimEndingDirectorySeparator(target);
    }

    private static string? TaskDir(string procDir) => Variable(Path.Combine(procDir, "environ"), "CORRAL_TASK_DIR");

    /// <summary>The value of one environment variable of a live process, or null when it has none or is gone.</summary>
    public static string? EnvironmentVariable(int pid, string name)
    {
        try
        {
            return Variable($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/environ", name);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string? Variable(string environFile, string name)
    {
        var prefix = name + "=";
        var environ = File.ReadAllBytes(environFile);
        foreach (var entry in Encoding.UTF8.GetString(environ).Split('\0'))
        {
            if (entry.StartsWith(prefix, StringComparison.Ordinal))
            {
                return entry[prefix.Length..];
            }
        }
        return null;
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
