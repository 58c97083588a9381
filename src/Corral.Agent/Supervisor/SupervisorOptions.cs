namespace Corral.Agent.Supervisor;

/// <summary>Where a supervisor keeps its state and listens.</summary>
public sealed class SupervisorOptions
{
    /// <summary>Directory of the supervisor's state: <c>tasks/ID/state.json</c>, the lock file and, by default, the socket.</summary>
    public required string DataDirectory { get; init; }

    /// <value>The Unix socket path. Default <c>DATA/supervisor.sock</c>.</value>
    public string? SocketPath { get; init; }

    /// <summary>The effective socket path.</summary>
    public string EffectiveSocketPath => SocketPath ?? Path.Combine(DataDirectory, "supervisor.sock");
}
