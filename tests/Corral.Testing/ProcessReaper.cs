using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Corral.Testing;

/// <summary>
/// Starts processes for a test, each as the leader of its own session (so its whole tree can be found and
/// killed), and on dispose SIGKILLs every tracked session: every process whose session id is a tracked
/// one, found through /proc. Track PIDs the test learns about otherwise (a daemon's, a task's) too.
/// Dispose runs also when the test fails, so nothing a test started outlives it.
/// </summary>
public sealed partial class ProcessReaper : IDisposable
{
    private readonly Lock _lock = new();
    private readonly HashSet<int> _sessions = [];
    private readonly List<Process> _processes = [];

    /// <summary>
    /// Starts <paramref name="fileName"/> in a new session with stdout and stderr appended to
    /// <paramref name="outputFile"/> and stdin on /dev/null. The returned PID is the program's own.
    /// </summary>
    public Process Start(string fileName, IEnumerable<string> args, string outputFile, IReadOnlyDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo("/bin/sh")
        {
            UseShellExecute = false,
            RedirectStandardInput = false,
            RedirectStandardOutput = false,
            RedirectStandardError = false,
        };
        // sh execs setsid, which (not being a group leader) execs the program: one PID all along.
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("exec /usr/bin/setsid \"$@\" </dev/null >>\"$CORRAL_TEST_OUTPUT\" 2>&1");
        psi.ArgumentList.Add("sh");
        psi.ArgumentList.Add(fileName);
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }
        psi.Environment["CORRAL_TEST_OUTPUT"] = outputFile;
        if (env is not null)
        {
            foreach (var (key, value) in env)
            {
                psi.Environment[key] = value;
            }
        }
        var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {fileName}");
        lock (_lock)
        {
            _processes.Add(process);
            _sessions.Add(process.Id);
        }
        return process;
    }

    /// <summary>Kills the session (or process group) led by <paramref name="pid"/> on dispose.</summary>
    public void TrackSession(int pid)
    {
        lock (_lock)
        {
            _sessions.Add(pid);
        }
    }

    /// <summary>The PIDs of live (non-zombie) processes whose session id is <paramref name="sessionId"/>.</summary>
    public static IReadOnlyList<int> SessionMembers(int sessionId)
    {
        var result = new List<int>();
        foreach (var (pid, state, session) in ProcTable())
        {
            if (session == sessionId && state is not 'Z' and not 'X')
            {
                result.Add(pid);
            }
        }
        return result;
    }

    /// <summary>True when a non-zombie process with this PID exists.</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            var state = text[(text.LastIndexOf(')') + 2)..][0];
            return state is not 'Z' and not 'X';
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>SIGKILLs one process.</summary>
    public static void Kill(int pid) => KillNative(pid, 9);

    public void Dispose()
    {
        int[] sessions;
        Process[] processes;
        lock (_lock)
        {
            sessions = [.. _sessions];
            processes = [.. _processes];
        }
        for (var round = 0; round < 20; round++)
        {
            var any = false;
            foreach (var sid in sessions)
            {
                KillNative(-sid, 9);
                KillNative(sid, 9);
            }
            foreach (var (pid, state, session) in ProcTable())
            {
                if (sessions.Contains(session) && state is not 'Z' and not 'X')
                {
                    KillNative(pid, 9);
                    any = true;
                }
            }
            if (!any)
            {
                break;
            }
            Thread.Sleep(50);
        }
        foreach (var process in processes)
        {
            try
            {
                process.WaitForExit(5000);
            }
            catch (InvalidOperationException)
            {
            }
            process.Dispose();
        }
    }

    private static IEnumerable<(int Pid, char State, int Session)> ProcTable()
    {
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }
            string text;
            try
            {
                text = File.ReadAllText(Path.Combine(dir, "stat"));
            }
            catch (IOException)
            {
                continue;
            }
            var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
            yield return (pid, fields[0][0], int.Parse(fields[3], CultureInfo.InvariantCulture));
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int KillNative(int pid, int signal);
}
