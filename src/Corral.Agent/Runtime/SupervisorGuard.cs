using System.Diagnostics;
using Corral.Agent.Supervisor;
using Microsoft.Extensions.Logging;

namespace Corral.Agent.Runtime;

/// <summary>
/// Keeps a supervisor answering for the agent: finds the one on the socket, or starts one in its own session
/// (so it outlives the agent), and watches it. When it dies, its tasks died with it; the guard starts a new one
/// and reports it through <see cref="Restarted"/>; runners see their tasks lost and start them again. Logs the
/// supervisor it attaches to, its loss and its replacement.
/// </summary>
public sealed class SupervisorGuard : IAsyncDisposable
{
    private readonly AgentOptions _options;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _ensure = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly ILogger<SupervisorGuard> _logger;
    private Task? _watch;
    private volatile SupervisorHello? _current;
    private bool _unavailableLogged;
    private string? _reportedLost;

    public SupervisorGuard(AgentOptions options, TimeProvider time, ILogger<SupervisorGuard> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        Client = new SupervisorClient(options.EffectiveSupervisorSocket);
    }

    public SupervisorClient Client { get; }

    /// <summary>The supervisor last seen answering; null before the first.</summary>
    public SupervisorHello? Current => _current;

    /// <summary>Raised (on a pool thread) with the new supervisor's identity after the previous one died.</summary>
    public event Action<SupervisorHello>? Restarted;

    /// <summary>Makes sure a supervisor answers, starting one when none does; returns its identity.</summary>
    public async Task<SupervisorHello> EnsureAsync(CancellationToken cancellationToken)
    {
        await _ensure.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            SupervisorHello hello;
            var previous = _current;
            try
            {
                hello = await Client.HelloAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (SupervisorUnavailableException)
            {
                if (previous is not null && _reportedLost != previous.InstanceId)
                {
                    _reportedLost = previous.InstanceId;
                    AgentRuntimeLog.SupervisorLost(_logger, previous.Pid, previous.InstanceId, Client.SocketPath);
                }
                hello = await LaunchAsync(cancellationToken).ConfigureAwait(false);
            }
            _current = hello;
            _unavailableLogged = false;
            if (previous is null)
            {
                AgentRuntimeLog.SupervisorAttached(_logger, hello.Pid, hello.InstanceId, hello.Version, Client.SocketPath);
            }
            else if (previous.InstanceId != hello.InstanceId)
            {
                AgentRuntimeLog.SupervisorReplaced(_logger, hello.Pid, hello.InstanceId, previous.Pid);
                var handler = Restarted;
                if (handler is not null)
                {
                    ThreadPool.QueueUserWorkItem(_ => handler(hello));
                }
            }
            return hello;
        }
        finally
        {
            _ensure.Release();
        }
    }

    /// <summary>Starts watching: every check interval, a supervisor that does not answer (or answers as a new instance) is replaced and reported.</summary>
    public void StartWatching()
    {
        _watch ??= Task.Run(() => WatchAsync(_stop.Token));
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_watch is not null)
        {
            try
            {
                await _watch.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
        _stop.Dispose();
        _ensure.Dispose();
    }

    private async Task WatchAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_options.SupervisorCheckInterval, _time, cancellationToken).ConfigureAwait(false);
                await EnsureAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is IOException or SupervisorException or InvalidOperationException or TimeoutException)
            {
                // Could not start one this time; try again on the next tick. Said once per outage, not every tick.
                if (!_unavailableLogged)
                {
                    _unavailableLogged = true;
                    AgentRuntimeLog.SupervisorUnavailable(_logger, $"{ex.GetType().Name}: {ex.Message}", _options.SupervisorCheckInterval.TotalSeconds);
                }
            }
        }
    }

    private async Task<SupervisorHello> LaunchAsync(CancellationToken cancellationToken)
    {
        if (_options.CorralCommand is not { Count: > 0 } command)
        {
            throw new SupervisorUnavailableException($"no supervisor answers on {Client.SocketPath} and the agent was not told how to start one");
        }
        var dataDir = _options.EffectiveSupervisorDataDirectory;
        Directory.CreateDirectory(dataDir);
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        // setsid -f: the supervisor leads a session of its own and is not the agent's child, so neither the
        // agent's death nor a signal to the agent's process group reaches it.
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("exec setsid -f \"$@\" </dev/null >>\"$0\" 2>&1");
        psi.ArgumentList.Add(Path.Combine(dataDir, "supervisor.out"));
        foreach (var part in command)
        {
            psi.ArgumentList.Add(part);
        }
        psi.ArgumentList.Add("supervisor");
        psi.ArgumentList.Add("--data-dir");
        psi.ArgumentList.Add(dataDir);
        if (_options.SupervisorSocket is not null)
        {
            psi.ArgumentList.Add("--socket");
            psi.ArgumentList.Add(_options.SupervisorSocket);
        }
        if (_options.SupervisorLogLevel is { } level)
        {
            psi.ArgumentList.Add("--log-level");
            psi.ArgumentList.Add(level);
        }
        using (var launcher = Process.Start(psi) ?? throw new InvalidOperationException("could not run setsid to start the supervisor"))
        {
            await launcher.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        AgentRuntimeLog.SupervisorLaunched(_logger, Client.SocketPath, Path.Combine(dataDir, "supervisor.out"));
        var deadline = _time.GetUtcNow() + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                return await Client.HelloAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (SupervisorUnavailableException) when (_time.GetUtcNow() < deadline)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(20), _time, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
