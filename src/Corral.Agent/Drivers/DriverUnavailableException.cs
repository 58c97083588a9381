namespace Corral.Agent.Drivers;

/// <summary>
/// What runs the driver's tasks is gone (for the process driver: the supervisor died, and its tasks with it).
/// The caller brings the backend back and starts its tasks again.
/// </summary>
public sealed class DriverUnavailableException : Exception
{
    public DriverUnavailableException()
    {
    }

    public DriverUnavailableException(string message)
        : base(message)
    {
    }

    public DriverUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
