using System.Runtime.InteropServices;

namespace Corral.Agent.Supervisor;

/// <summary>
/// Reaps every child of this process on one dedicated thread (<c>waitpid(-1)</c>), so no task is ever
/// left a zombie, and hands each exit status to whoever registered the PID. An exit reaped before its PID
/// was registered is kept and delivered on registration. The process must not use
/// <see cref="System.Diagnostics.Process"/> to start children, since this reaper would take their exits.
/// Made a child subreaper, the process also inherits (and so reaps) orphaned descendants of its tasks.
/// </summary>
internal sealed class ChildReaper
{
    private readonly Lock _lock = new();
    private readonly Dictionary<int, Action<int>> _waiters = [];
    private readonly Dictionary<int, (int Status, long At)> _early = [];
    private readonly AutoResetEvent _spawned = new(false);

    public ChildReaper()
    {
        Interop.prctl(Interop.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        var thread = new Thread(Loop) { IsBackground = true, Name = "corral-reaper" };
        thread.Start();
    }

    /// <summary>Calls <paramref name="onExit"/> (on the thread pool) with the raw wait status when <paramref name="pid"/> ends.</summary>
    public void Register(int pid, Action<int> onExit)
    {
        int status;
        lock (_lock)
        {
            if (!_early.Remove(pid, out var early))
            {
                _waiters[pid] = onExit;
                return;
            }
            status = early.Status;
        }
        ThreadPool.QueueUserWorkItem(_ => onExit(status));
    }

    /// <summary>Wakes the reaper after a child was started while it had none.</summary>
    public void NotifySpawned() => _spawned.Set();

    private void Loop()
    {
        while (true)
        {
            var pid = Interop.waitpid(-1, out var status, 0);
            if (pid > 0)
            {
                Action<int>? waiter;
                lock (_lock)
                {
                    if (!_waiters.Remove(pid, out waiter))
                    {
                        // Either a task leader reaped before its registration (kept briefly), or an orphaned
                        // descendant of a task handed to us as subreaper (nobody waits for it).
                        var now = Environment.TickCount64;
                        if (_early.Count > 256)
                        {
                            foreach (var stale in _early.Where(e => now - e.Value.At > 60_000).Select(e => e.Key).ToList())
                            {
                                _early.Remove(stale);
                            }
                        }
                        _early[pid] = (status, now);
                    }
                }
                if (waiter is not null)
                {
                    ThreadPool.QueueUserWorkItem(_ => waiter(status));
                }
                continue;
            }
            var errno = Marshal.GetLastPInvokeError();
            if (errno == Interop.EINTR)
            {
                continue;
            }
            _spawned.WaitOne(TimeSpan.FromSeconds(1));
        }
    }
}
