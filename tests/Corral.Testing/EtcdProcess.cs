using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Corral.Testing;

/// <summary>
/// One child process a test started, with its stderr kept (last lines) for failure messages. Every live
/// <see cref="EtcdProcess"/> is also registered with a process-wide reaper that SIGKILLs it when the test host
/// exits, as a last resort when a test forgot (or failed before) disposing it.
/// </summary>
public sealed class EtcdProcess : IAsyncDisposable
{
    private const int SigTerm = 15;
    private const int MaxKeptLines = 200;

    private static readonly ConcurrentDictionary<int, Process> Live = new();
    private static int _hooked;

    private readonly Process _process;
    private readonly Queue<string> _lines = new();
    private readonly Lock _linesLock = new();

    private EtcdProcess(Process process)
    {
        _process = process;
    }

    /// <summary>The operating-system process id.</summary>
    public int Pid => _process.Id;

    /// <summary>True until the process has exited.</summary>
    public bool IsRunning
    {
        get
        {
            try
            {
                return !_process.HasExited;
            }
            catch (InvalidOperationException)
            {
                return false;
            }
        }
    }

    /// <summary>Starts <paramref name="fileName"/> with <paramref name="arguments"/>; stdout and stderr are captured.</summary>
    public static EtcdProcess Start(string fileName, IEnumerable<string> arguments)
    {
        HookProcessExit();
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var child = new EtcdProcess(process);
        process.ErrorDataReceived += (_, e) => child.Keep(e.Data);
        process.OutputDataReceived += (_, e) => child.Keep(e.Data);
        process.Start();
        Live[process.Id] = process;
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return child;
    }

    /// <summary>The last lines the process wrote (stdout and stderr interleaved), for diagnostics.</summary>
    public string RecentOutput()
    {
        lock (_linesLock)
        {
            return string.Join('\n', _lines);
        }
    }

    /// <summary>Sends SIGKILL and waits (bounded) for the process to exit.</summary>
    public async Task KillAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (IsRunning)
        {
            try
            {
                _process.Kill(entireProcessTree: false);
            }
            catch (InvalidOperationException)
            {
            }
        }
        await WaitForExitAsync(timeout, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends SIGTERM and waits up to <paramref name="timeout"/> for a clean exit; when it has not exited by then,
    /// SIGKILLs it. Returns true when it exited from SIGTERM.
    /// </summary>
    public async Task<bool> TerminateAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (!IsRunning)
        {
            return true;
        }
        _ = Kill(_process.Id, SigTerm);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            Live.TryRemove(_process.Id, out _);
            return true;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await KillAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        _process.Dispose();
    }

    private async Task WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"process {_process.Id} did not exit within {timeout.TotalSeconds} s of SIGKILL");
        }
        catch (InvalidOperationException)
        {
            // Never started or already disposed: nothing to wait for.
        }
        Live.TryRemove(_process.Id, out _);
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_linesLock)
        {
            _lines.Enqueue(line);
            while (_lines.Count > MaxKeptLines)
            {
                _lines.Dequeue();
            }
        }
    }

    private static void HookProcessExit()
    {
        if (Interlocked.Exchange(ref _hooked, 1) == 0)
        {
            AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAllLive();
        }
    }

    private static void KillAllLive()
    {
        foreach (var (_, process) in Live)
        {
            try
            {
                process.Kill();
            }
            catch (InvalidOperationException)
            {
            }
            catch (System.ComponentModel.Win32Exception)
            {
            }
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
