namespace Corral.Client;

/// <summary>The client's target could not be worked out; the message names what is missing and where it is looked for.</summary>
public sealed class ClientConfigException : Exception
{
    public ClientConfigException()
    {
    }

    public ClientConfigException(string message)
        : base(message)
    {
    }

    public ClientConfigException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
