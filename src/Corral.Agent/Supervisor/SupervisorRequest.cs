namespace Corral.Agent.Supervisor;

/// <summary>
/// One request line on the supervisor socket. <see cref="Op"/> is one of <c>hello</c>, <c>start</c>,
/// <c>stop</c>, <c>inspect</c>, <c>list</c>, <c>wait</c>, <c>remove</c>, <c>fence</c>.
/// </summary>
public sealed record SupervisorRequest
{
    public required string Op { get; init; }

    /// <summary>The task for <c>stop</c>, <c>inspect</c>, <c>wait</c> and <c>remove</c>.</summary>
    public string? Id { get; init; }

    /// <summary>The task for <c>start</c>.</summary>
    public SupervisedTaskSpec? Spec { get; init; }

    /// <summary><c>stop</c>: signal overriding the task's stop signal.</summary>
    public string? Signal { get; init; }

    /// <summary>
    /// <c>stop</c>: overrides the task's stop timeout; <c>wait</c>: how long to wait at most (capped at 5 minutes);
    /// <c>fence</c>: stop the task unless the fence is renewed within this (null clears the fence).
    /// </summary>
    public long? TimeoutMs { get; init; }

    /// <summary><c>wait</c>: the run to wait for; null for the current one.</summary>
    public long? Generation { get; init; }
}
