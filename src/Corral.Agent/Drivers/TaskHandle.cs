namespace Corral.Agent.Drivers;

/// <summary>
/// What a driver returns from Start and needs back in Recover: plain, serialisable data. The runtime
/// saves it on disk so that an agent restarted after a crash can re-attach to the running task.
/// </summary>
/// <param name="TaskId">The task's id on this node.</param>
/// <param name="Driver">The name of the driver that started it.</param>
/// <param name="Pid">The task's leader PID.</param>
/// <param name="StartedAt">When the task was started.</param>
/// <param name="DriverState">Opaque to everyone but the driver (JSON).</param>
public sealed record TaskHandle(string TaskId, string Driver, int Pid, DateTimeOffset StartedAt, string DriverState)
{
    /// <summary><c>limits not enforced: REASON</c> when the run's resource limits could not be applied; null otherwise.</summary>
    public string? LimitsNote { get; init; }
}
