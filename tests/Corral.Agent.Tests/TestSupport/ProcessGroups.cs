using System.Runtime.InteropServices;

namespace Corral.Agent.Tests.TestSupport;

/// <summary>Process-group helpers for tests: kill a group, and wait (bounded) until a group has no process left.</summary>
internal static partial class ProcessGroups
{
    private const int SigKill = 9;

    /// <summary>SIGKILLs every process in the group; safe to call when it is already gone.</summary>
    public static void Kill(int processGroupId)
    {
        if (processGroupId > 1)
        {
            _ = KillNative(-processGroupId, SigKill);
        }
    }

    /// <summary>Sends <paramref name="signal"/> to one process.</summary>
    public static void Signal(int pid, int signal) => _ = KillNative(pid, signal);

    /// <summary>True while any process (zombies included) is in the group.</summary>
    public static bool Exists(int processGroupId) => KillNative(-processGroupId, 0) == 0;

    /// <summary>Polls until no process is in the group or <paramref name="timeout"/> passes; true when it emptied.</summary>
    public static async Task<bool> WaitGoneAsync(int processGroupId, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (!Exists(processGroupId) || OnlyZombies(processGroupId))
            {
                return true;
            }
            await Task.Delay(50);
        }
        return false;
    }

    /// <summary>Reads a pid a test script wrote to <paramref name="path"/>, waiting for it (bounded).</summary>
    public static async Task<int> ReadPidFileAsync(string path, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (File.Exists(path) && int.TryParse((await File.ReadAllTextAsync(path)).Trim(), out var pid))
            {
                return pid;
            }
            await Task.Delay(20);
        }
        throw new TimeoutException($"no pid in {path} after {timeout}");
    }

    private static bool OnlyZombies(int processGroupId)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            var name = Path.GetFileName(dir);
            if (!int.TryParse(name, out _))
            {
                continue;
            }
            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(dir, "stat"));
            }
            catch (IOException)
            {
                continue;
            }
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            if (int.Parse(fields[2]) == processGroupId && fields[0] != "Z")
            {
                return false;
            }
        }
        return true;
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int KillNative(int pid, int signal);
}
