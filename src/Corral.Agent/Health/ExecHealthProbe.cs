using Corral.Core.Tasks;
using System.ComponentModel;
using System.Diagnostics;

namespace Corral.Agent.Health;

/// <summary>
/// Healthy when a command exits with code 0. The command runs in its own session and process group (through
/// <c>setsid</c>), so that on cancellation the whole group — including anything the command forked — is killed.
/// </summary>
public sealed class ExecHealthProbe : IHealthProbe
{
    private const int MaxOutput = 256;
    private static readonly string? Setsid = new[] { "/usr/bin/setsid", "/bin/setsid" }.FirstOrDefault(File.Exists);

    /// <param name="command">The program and its arguments; the program is looked up on PATH when not a path.</param>
    /// <param name="workingDirectory">Directory the command runs in.</param>
    /// <param name="environment">Variables added to the agent's environment for the command; none when null.</param>
    public ExecHealthProbe(IReadOnlyList<string> command, string workingDirectory, IReadOnlyDictionary<string, string>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(workingDirectory);
        if (command.Count == 0 || string.IsNullOrEmpty(command[0]))
        {
            throw new ArgumentException("an exec health check needs a command", nameof(command));
        }
        Command = command;
        WorkingDirectory = workingDirectory;
        Environment = environment ?? new Dictionary<string, string>();
    }

    public IReadOnlyList<string> Command { get; }

    public string WorkingDirectory { get; }

    public IReadOnlyDictionary<string, string> Environment { get; }

    public async Task<ProbeResult> ProbeAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var info = new ProcessStartInfo
        {
            FileName = Setsid ?? Command[0],
            WorkingDirectory = WorkingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in Setsid is null ? Command.Skip(1) : Command)
        {
            info.ArgumentList.Add(arg);
        }
        foreach (var (key, value) in Environment)
        {
            info.Environment[key] = value;
        }

        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException("no process started");
        }
        catch (Exception e) when (e is Win32Exception or InvalidOperationException)
        {
            return new ProbeResult(false, $"cannot run {Command[0]}: {e.Message}");
        }

        using (process)
        {
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
            var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
            try
            {
                await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                KillAll(process);
                throw;
            }

            // The group is gone with its leader only if nothing else kept running; make sure of it.
            if (Setsid is not null)
            {
                ProcessGroupSignals.KillGroup(process.Id);
            }
            var output = await CollectAsync(stdout, stderr).ConfigureAwait(false);
            var code = process.ExitCode;
            return code == 0
                ? new ProbeResult(true, "exit code 0" + (output.Length > 0 ? ": " + output : ""))
                : new ProbeResult(false, $"exit code {code}" + (output.Length > 0 ? ": " + output : ""));
        }
    }

    private static void KillAll(Process process)
    {
        if (Setsid is not null)
        {
            ProcessGroupSignals.KillGroup(process.Id);
        }
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }
        catch (Win32Exception)
        {
        }
    }

    private static async Task<string> CollectAsync(Task<string> stdout, Task<string> stderr)
    {
        // A grandchild that left the group may still hold the pipes; do not wait for it.
        var both = Task.WhenAll(stdout, stderr);
        if (await Task.WhenAny(both, Task.Delay(TimeSpan.FromSeconds(1))).ConfigureAwait(false) != both)
        {
            return "";
        }
        var text = (stdout.Result + "\n" + stderr.Result).Trim().ReplaceLineEndings(" ");
        return text.Length <= MaxOutput ? text : "…" + text[^MaxOutput..];
    }
}
