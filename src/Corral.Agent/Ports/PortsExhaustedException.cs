namespace Corral.Agent.Ports;

/// <summary>Thrown when no port of the allocator's range is free; the message names the range.</summary>
public sealed class PortsExhaustedException : InvalidOperationException
{
    public PortsExhaustedException(string message)
        : base(message)
    {
    }

    public PortsExhaustedException()
    {
    }

    public PortsExhaustedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
