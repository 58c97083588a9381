namespace Corral.Agent.Supervisor;

/// <summary>The supervisor refused a request; <see cref="Exception.Message"/> names the problem.</summary>
public sealed class SupervisorException : Exception
{
    public SupervisorException(string message, SupervisedTaskInfo? task = null, bool notFound = false)
        : base(message)
    {
        Task = task;
        NotFound = notFound;
    }

    public SupervisorException()
    {
    }

    public SupervisorException(string message)
        : base(message)
    {
    }

    public SupervisorException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The task as recorded after the refusal (for a failed start: state Failed with the error), when there is one.</summary>
    public SupervisedTaskInfo? Task { get; }

    /// <summary>True when the task id was unknown.</summary>
    public bool NotFound { get; }
}
