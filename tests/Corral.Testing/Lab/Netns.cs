using System.Runtime.InteropServices;

namespace Corral.Testing.Lab;

/// <summary>
/// Runs code inside a named network namespace (<c>/run/netns/NAME</c>) on a dedicated thread that joins it with
/// setns(2): sockets created there stay in that namespace wherever they are used afterwards.
/// </summary>
public static partial class Netns
{
    private const int CloneNewNet = 0x40000000;

    /// <summary>Runs <paramref name="body"/> on a new thread inside <paramref name="name"/> and returns its result.</summary>
    public static T Run<T>(string name, Func<T> body)
    {
        T result = default!;
        Exception? error = null;
        var thread = Start(name, () =>
        {
            try
            {
                result = body();
            }
            catch (Exception e)
            {
                error = e;
            }
        });
        thread.Join();
        if (error is not null)
        {
            throw new InvalidOperationException($"in network namespace {name}: {error.Message}", error);
        }
        return result;
    }

    /// <summary>Starts a background thread that joins <paramref name="name"/> and then runs <paramref name="body"/>.</summary>
    public static Thread Start(string name, Action body)
    {
        var thread = new Thread(() =>
        {
            Enter(name);
            body();
        })
        {
            IsBackground = true,
            Name = "netns " + name,
        };
        thread.Start();
        return thread;
    }

    /// <summary>Makes the calling thread join network namespace <paramref name="name"/>.</summary>
    private static void Enter(string name)
    {
        using var handle = File.OpenHandle("/run/netns/" + name, FileMode.Open, FileAccess.Read);
        if (SetNs((int)handle.DangerousGetHandle(), CloneNewNet) != 0)
        {
            throw new IOException($"setns({name}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>
    /// Makes this process a child subreaper: orphans of processes it started (a daemon's children once the daemon is
    /// killed) are re-parented here instead of to PID 1, which may reap them late.
    /// </summary>
    public static void BecomeSubreaper()
    {
        const int PrSetChildSubreaper = 36;
        if (Prctl(PrSetChildSubreaper, 1, 0, 0, 0) != 0)
        {
            throw new IOException($"prctl(PR_SET_CHILD_SUBREAPER) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>Reaps <paramref name="pid"/> if it is an exited child of this process; never blocks.</summary>
    public static void TryReap(int pid) => WaitPid(pid, 0, 1 /* WNOHANG */);

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNs(int fd, int nstype);

    [LibraryImport("libc", EntryPoint = "prctl", SetLastError = true)]
    private static partial int Prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    [LibraryImport("libc", EntryPoint = "waitpid", SetLastError = true)]
    private static partial int WaitPid(int pid, nint status, int options);
}
