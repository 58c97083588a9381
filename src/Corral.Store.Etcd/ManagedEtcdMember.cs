using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Corral.Store.Etcd;

/// <summary>
/// Starts and supervises a local etcd member (see <see cref="ManagedEtcdOptions"/>): restarts it a second after it
/// exits, and stops it (SIGTERM, then SIGKILL after 15 s) when stopped. Its output goes to <c>DATA-DIR.log</c>; its
/// PID to <c>DATA-DIR.pid</c>, so a member left behind by a server that was killed is stopped before a new one starts.
/// </summary>
public sealed partial class ManagedEtcdMember : IAsyncDisposable
{
    private static readonly TimeSpan RestartDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(15);

    private readonly ManagedEtcdOptions _options;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private Process? _process;
    private Task _supervising = Task.CompletedTask;

    public ManagedEtcdMember(ManagedEtcdOptions options, ILogger logger)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    /// <summary>The running member's PID, or null.</summary>
    public int? Pid => _process is { HasExited: false } p ? p.Id : null;

    private string PidFile => _options.DataDir + ".pid";

    private string LogFile => _options.DataDir + ".log";

    /// <summary>Starts the member (stopping one left behind first) and supervises it until <see cref="StopAsync"/>.</summary>
    public void Start()
    {
        if (!File.Exists(_options.EtcdPath))
        {
            throw new InvalidOperationException($"etcd is not installed: {_options.EtcdPath} does not exist (Debian: apt-get install etcd-server)");
        }
        KillLeftover();
        Launch();
        _supervising = Task.Run(() => SuperviseAsync(_stop.Token));
    }

    /// <summary>Stops supervising and stops the member.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _supervising.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (_process is { } process)
        {
            try
            {
                if (!process.HasExited)
                {
                    // SIGTERM: an etcd leader hands leadership over before it exits.
                    using (var term = Process.Start("/bin/kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]))
                    {
                        await term.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                    }
                    using var wait = new CancellationTokenSource(StopTimeout);
                    try
                    {
                        await process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        process.Kill();
                        await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                    }
                }
            }
            finally
            {
                process.Dispose();
                _process = null;
                File.Delete(PidFile);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    private void Launch()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(_options.DataDir))!);
        // etcd writes its log to stderr; the shell appends it to the log file so no pipe has to be drained.
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("exec \"$0\" \"$@\" >>\"$CORRAL_ETCD_LOG\" 2>&1");
        info.ArgumentList.Add(_options.EtcdPath);
        foreach (var argument in _options.Arguments())
        {
            info.ArgumentList.Add(argument);
        }
        info.Environment["CORRAL_ETCD_LOG"] = LogFile;
        _process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {_options.EtcdPath}");
        File.WriteAllText(PidFile, _process.Id.ToString(CultureInfo.InvariantCulture));
        Started(_logger, _options.Name, _process.Id, _options.ClientUrl);
    }

    private async Task SuperviseAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await _process!.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
                Exited(_logger, _options.Name, _process.ExitCode, RestartDelay, LogFile);
                await Task.Delay(RestartDelay, cancellationToken).ConfigureAwait(false);
                _process.Dispose();
                Launch();
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private void KillLeftover()
    {
        if (!File.Exists(PidFile) || !int.TryParse(File.ReadAllText(PidFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
        {
            return;
        }
        try
        {
            var commandLine = File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
            if (commandLine.Contains(_options.DataDir, StringComparison.Ordinal))
            {
                using var leftover = Process.GetProcessById(pid);
                leftover.Kill();
                leftover.WaitForExit(TimeSpan.FromSeconds(10));
            }
        }
        catch (Exception e) when (e is IOException or ArgumentException or InvalidOperationException or UnauthorizedAccessException)
        {
            // Not running any more.
        }
    }

    [LoggerMessage(EventId = 2150, Level = LogLevel.Information, Message = "Managed etcd member {Name} started (pid {Pid}, {ClientUrl})")]
    private static partial void Started(ILogger logger, string name, int pid, string clientUrl);

    [LoggerMessage(EventId = 2151, Level = LogLevel.Warning, Message = "Managed etcd member {Name} exited with {ExitCode}; restarting in {Delay} (log: {Log})")]
    private static partial void Exited(ILogger logger, string name, int exitCode, TimeSpan delay, string log);
}
