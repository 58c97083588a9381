using System.Diagnostics;

namespace Corral.Testing.Lab;

/// <summary>Runs short commands (ip, sysctl) to completion, with a timeout, capturing their output.</summary>
public static class Shell
{
    /// <summary>Runs <paramref name="file"/> and returns its exit code and stdout+stderr; kills it after <paramref name="timeout"/> (default 10 s).</summary>
    public static (int Code, string Output) Run(string file, IEnumerable<string> args, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout ?? TimeSpan.FromSeconds(10)))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in time");
        }
        return (process.ExitCode, stdout.GetAwaiter().GetResult() + stderr.GetAwaiter().GetResult());
    }

    /// <summary>Runs <c>ip ARGS</c> and throws with its output when it fails.</summary>
    public static string Ip(params string[] args)
    {
        var (code, output) = Run("/usr/sbin/ip", args);
        if (code != 0)
        {
            throw new InvalidOperationException($"ip {string.Join(' ', args)} failed ({code}): {output.Trim()}");
        }
        return output;
    }
}
