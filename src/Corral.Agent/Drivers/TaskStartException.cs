namespace Corral.Agent.Drivers;

/// <summary>A task could not be started; the message names the problem (command not found, unknown user...).</summary>
public sealed class TaskStartException : Exception
{
    public TaskStartException()
    {
    }

    public TaskStartException(string message)
        : base(message)
    {
    }

    public TaskStartException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
