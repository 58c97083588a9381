using System.Diagnostics;
using System.Text;

namespace Corral.Server.Vip;

/// <summary>
/// Runs the notify hooks (keepalived's notify_master / notify_backup / notify_fault) with the role, the address and
/// the reason in the environment, bounded by <see cref="VipOptions.HookTimeout"/>.
/// </summary>
public static class VipHooks
{
    /// <summary>At most this much of a hook's output is kept for the event log.</summary>
    public const int MaxOutput = 4096;

    /// <summary>
    /// Runs <paramref name="path"/> with <c>CORRAL_ROLE</c> (<paramref name="role"/>: leader, follower or fault),
    /// <c>CORRAL_VIP</c> (address/prefix), <c>CORRAL_VIP_ADDRESS</c>, <c>CORRAL_VIP_INTERFACE</c>,
    /// <c>CORRAL_REASON</c> and <c>CORRAL_SERVER</c> set, stdin on /dev/null, stdout and stderr captured together.
    /// A hook that outlives the timeout is killed with its process tree. Never throws for a failing hook.
    /// </summary>
    public static async Task<VipHookResult> RunAsync(string path, string role, string reason, string serverName, VipOptions options, CancellationToken cancellationToken)
    {
        var psi = new ProcessStartInfo(path)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.Environment["CORRAL_ROLE"] = role;
        psi.Environment["CORRAL_VIP"] = options.Cidr;
        psi.Environment["CORRAL_VIP_ADDRESS"] = options.Address.ToString();
        psi.Environment["CORRAL_VIP_INTERFACE"] = options.Interface;
        psi.Environment["CORRAL_REASON"] = reason;
        psi.Environment["CORRAL_SERVER"] = serverName;
        var started = Stopwatch.GetTimestamp();
        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new IOException("Process.Start returned null");
        }
        catch (Exception e) when (e is IOException or System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return new VipHookResult(path, role, null, false, "could not start: " + e.Message, TimeSpan.Zero);
        }
        using (process)
        {
            process.StandardInput.Close();
            var output = new StringBuilder();
            var gate = new Lock();
            void Append(string? line)
            {
                if (line is null)
                {
                    return;
                }
                lock (gate)
                {
                    if (output.Length < MaxOutput)
                    {
                        output.Append(line).Append('\n');
                    }
                }
            }
            process.OutputDataReceived += (_, e) => Append(e.Data);
            process.ErrorDataReceived += (_, e) => Append(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.HookTimeout);
            var timedOut = false;
            try
            {
                await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                timedOut = true;
                try
                {
                    process.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                }
                await process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
            string text;
            lock (gate)
            {
                text = output.Length > MaxOutput ? output.ToString(0, MaxOutput) : output.ToString();
            }
            return new VipHookResult(path, role, timedOut || !process.HasExited ? null : process.ExitCode, timedOut, text.TrimEnd(), Stopwatch.GetElapsedTime(started));
        }
    }
}
