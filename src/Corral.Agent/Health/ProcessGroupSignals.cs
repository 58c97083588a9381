using System.Runtime.InteropServices;

namespace Corral.Agent.Health;

/// <summary>Signals a whole process group; Linux only.</summary>
internal static partial class ProcessGroupSignals
{
    private const int SigKill = 9;

    /// <summary>Sends SIGKILL to every process in group <paramref name="processGroupId"/>; false when none was left.</summary>
    public static bool KillGroup(int processGroupId) =>
        processGroupId > 1 && Kill(-processGroupId, SigKill) == 0;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
