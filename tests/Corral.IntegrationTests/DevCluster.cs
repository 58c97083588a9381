using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Corral.Client;
using Corral.Core;
using Corral.Core.Api;
using Corral.Testing;

namespace Corral.IntegrationTests;

/// <summary>
/// A real <c>corral dev --no-sample</c> child process (server on SQLite, agent, supervisor) on a free loopback port
/// with a temp data directory, and an admin <see cref="CorralClient"/> for it. Stopped with SIGINT on dispose: when it
/// does not exit 0 or leaves a process of its data directory behind, those processes are killed (by process group)
/// and dispose throws, so the test class fails. Processes are reaped also when a test fails.
/// </summary>
public sealed class DevCluster : IAsyncLifetime
{
    /// <summary>How long the cluster may take to come up on a loaded 2-core machine.</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);

    private const int SigInt = 2;

    private readonly TempDirectory _dir = new("corral-it");
    private readonly ProcessReaper _reaper = new();
    private Process? _process;
    private CorralClient? _client;
    private int? _exitCode;

    public DevCluster()
    {
        DataDir = _dir.Combine("data");
        LogPath = _dir.Combine("dev.log");
    }

    /// <summary>The cluster's data directory (<c>--data-dir</c>).</summary>
    public string DataDir { get; }

    /// <summary>Stdout and stderr of <c>corral dev</c>.</summary>
    public string LogPath { get; }

    /// <summary>The API's HTTPS port on 127.0.0.1.</summary>
    public int Port { get; } = FreePorts.Next();

    /// <summary>The PID of the <c>corral dev</c> process.</summary>
    public int Pid => _process?.Id ?? throw new InvalidOperationException("the cluster is not started");

    /// <summary>An admin client, from the <c>admin.json</c> that <c>corral dev</c> wrote.</summary>
    public CorralClient Client => _client ?? throw new InvalidOperationException("the cluster is not started");

    /// <summary>The agent's <c>status.json</c>.</summary>
    public string AgentStatusPath => Path.Combine(DataDir, "agent", "status.json");

    public async Task InitializeAsync()
    {
        _process = _reaper.Start(CorralBinary.Dotnet,
            [CorralBinary.Dll, "dev", "--no-sample", "--data-dir", DataDir, "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            LogPath,
            new Dictionary<string, string> { ["DOTNET_NOLOGO"] = "1" });
        var adminConfig = Path.Combine(DataDir, "admin.json");
        var config = await WaitAsync(() => Task.FromResult(File.Exists(adminConfig) ? JsonSerializer.Deserialize(File.ReadAllText(adminConfig), CoreJson.Default.ClientConfig) : null),
            StartTimeout, "corral dev to write admin.json").ConfigureAwait(false);
        _client = new CorralClient(config);
        await WaitAsync(async () =>
        {
            var status = await Client.GetStatusAsync(CancellationToken.None).ConfigureAwait(false);
            return status.Leader is not null && status.Nodes.Any(n => n.Node.Name == "dev" && n.Node.Schedulable) ? status : null;
        }, StartTimeout, "the dev cluster to have a leader and its node 'dev' ready").ConfigureAwait(false);
    }

    /// <summary>Polls <paramref name="probe"/> until it returns non-null; fails with the cluster's log tail when the process exits or time runs out.</summary>
    public async Task<T> WaitAsync<T>(Func<Task<T?>> probe, TimeSpan timeout, string what)
    {
        try
        {
            return await Eventually.ValueAsync(async () =>
            {
                if (_process is { HasExited: true } && _exitCode is null)
                {
                    throw new Xunit.Sdk.XunitException($"corral dev exited with code {_process.ExitCode} while waiting for {what}\n{LogTail()}");
                }
                return await probe().ConfigureAwait(false);
            }, timeout, what).ConfigureAwait(false);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException(e.Message + "\n" + LogTail(), e);
        }
    }

    /// <summary>
    /// Sends SIGINT (Ctrl-C) and waits up to <paramref name="timeout"/> for <c>corral dev</c> to exit; returns its exit
    /// code, or null when it did not exit in time.
    /// </summary>
    public async Task<int?> StopAsync(TimeSpan timeout)
    {
        if (_exitCode is { } code)
        {
            return code;
        }
        if (_process is null)
        {
            return null;
        }
        if (!_process.HasExited)
        {
            ClusterProcesses.Signal(_process.Id, SigInt);
        }
        using var wait = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
        _exitCode = _process.ExitCode;
        return _exitCode;
    }

    /// <summary>Live processes of this cluster's data directory (corral dev itself included while it runs).</summary>
    public IReadOnlyList<ClusterProcesses.Info> Processes() => ClusterProcesses.Find(DataDir);

    /// <summary>The last part of corral dev's output, for failure messages.</summary>
    public string LogTail(int chars = 6000)
    {
        try
        {
            var text = File.ReadAllText(LogPath);
            return "--- corral dev output (tail) ---\n" + (text.Length > chars ? text[^chars..] : text);
        }
        catch (IOException)
        {
            return "(no corral dev output)";
        }
    }

    public async Task DisposeAsync()
    {
        var problems = new StringBuilder();
        try
        {
            var code = await StopAsync(TimeSpan.FromSeconds(60)).ConfigureAwait(false);
            if (code != 0)
            {
                problems.AppendLine(code is null ? "corral dev did not exit within 60 s of SIGINT" : $"corral dev exited with code {code} after SIGINT");
            }
            var left = await LeftoversAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            if (left.Count > 0)
            {
                problems.AppendLine("processes left behind after corral dev stopped:\n  " + string.Join("\n  ", left));
            }
        }
        finally
        {
            ClusterProcesses.KillAll(Processes());
            _reaper.Dispose();
            _client?.Dispose();
        }
        var log = LogTail();
        _dir.Dispose();
        if (problems.Length > 0)
        {
            throw new InvalidOperationException(problems + log);
        }
    }

    /// <summary>Processes of the data dir still alive once the grace (signal delivery, exit) is over; empty when none.</summary>
    public async Task<IReadOnlyList<ClusterProcesses.Info>> LeftoversAsync(TimeSpan grace)
    {
        var deadline = DateTime.UtcNow + grace;
        while (true)
        {
            var left = Processes();
            if (left.Count == 0 || DateTime.UtcNow > deadline)
            {
                return left;
            }
            await Task.Delay(100).ConfigureAwait(false);
        }
    }
}
