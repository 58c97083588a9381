using System.Diagnostics;
using System.Text;

namespace Corral.Agent.Tests.DemoWeb;

/// <summary>The real built <c>corral demo-web</c>, run as <c>dotnet corral.dll demo-web ...</c>; killed on dispose.</summary>
internal sealed class DemoWebProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    private DemoWebProcess(Process process)
    {
        _process = process;
    }

    public int Pid => _process.Id;

    public string Stdout
    {
        get
        {
            lock (_stdout)
            {
                return _stdout.ToString();
            }
        }
    }

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    public static DemoWebProcess Start(params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "corral.dll");
        if (!File.Exists(dll) || !File.Exists(Path.Combine(AppContext.BaseDirectory, "corral.runtimeconfig.json")))
        {
            throw new InvalidOperationException($"the built corral (corral.dll with its runtimeconfig) is missing from {AppContext.BaseDirectory}; build Corral.Cli");
        }
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(dll);
        info.ArgumentList.Add("demo-web");
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        var process = Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start");
        var demo = new DemoWebProcess(process);
        process.OutputDataReceived += (_, e) => demo.Append(demo._stdout, e.Data);
        process.ErrorDataReceived += (_, e) => demo.Append(demo._stderr, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return demo;
    }

    /// <summary>Waits (bounded) for the exit and returns the exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"demo-web (pid {Pid}) did not exit within {timeout}; stderr: {Stderr}");
        }
        return _process.ExitCode;
    }

    public bool HasExited => _process.HasExited;

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }

    private void Append(StringBuilder builder, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (builder)
        {
            builder.AppendLine(line);
        }
    }
}
