namespace Corral.Agent.Supervisor;

/// <summary>One response line: <see cref="Ok"/> false with <see cref="Error"/> naming the problem, or the result.</summary>
public sealed record SupervisorResponse
{
    public bool Ok { get; init; }

    public string? Error { get; init; }

    public SupervisorHello? Hello { get; init; }

    public SupervisedTaskInfo? Task { get; init; }

    public IReadOnlyList<SupervisedTaskInfo>? Tasks { get; init; }

    /// <summary>True when the request named a task the supervisor does not know.</summary>
    public bool NotFound { get; init; }

    public static SupervisorResponse Fail(string error) => new() { Ok = false, Error = error };

    public static SupervisorResponse Unknown(string id) => new() { Ok = false, Error = $"unknown task: {id}", NotFound = true };
}
