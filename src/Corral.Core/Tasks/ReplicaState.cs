namespace Corral.Core.Tasks;

/// <summary>The state of a replica as its node sees it.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(EnumJsonConverter<ReplicaState>))]
public enum ReplicaState
{
    /// <summary>Being prepared or started; not yet running.</summary>
    Starting,

    /// <summary>The process runs; no health verdict yet (or no health check and start period not over).</summary>
    Running,

    /// <summary>Running and its health check passes (or it has none).</summary>
    Healthy,

    /// <summary>Running but its health check fails.</summary>
    Unhealthy,

    /// <summary>The process ended and will not be restarted under its policy (clean exit).</summary>
    Exited,

    /// <summary>Could not start, or crash-looped past its restart policy. The reason says why.</summary>
    Failed,
}

/// <summary>A replica state with the time and reason of the last transition.</summary>
public sealed record ReplicaStatus(ReplicaState State, DateTimeOffset Since, string Reason)
{
    /// <summary>Last exit code, when the task has exited at least once.</summary>
    public int? LastExitCode { get; init; }
}
