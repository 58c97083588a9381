namespace Corral.Agent.Drivers;

/// <summary>Recover found no task to re-attach to (it is gone, or another run replaced it); the caller starts it afresh.</summary>
public sealed class TaskNotRecoverableException : Exception
{
    public TaskNotRecoverableException()
    {
    }

    public TaskNotRecoverableException(string message)
        : base(message)
    {
    }

    public TaskNotRecoverableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
