namespace Corral.Agent.Supervisor;

/// <summary>No supervisor answered on the socket, or it went away during a request.</summary>
public sealed class SupervisorUnavailableException : IOException
{
    public SupervisorUnavailableException()
    {
    }

    public SupervisorUnavailableException(string message)
        : base(message)
    {
    }

    public SupervisorUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
