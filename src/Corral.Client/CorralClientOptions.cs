namespace Corral.Client;

/// <summary>How a <see cref="CorralClient"/> talks to its servers.</summary>
public sealed class CorralClientOptions
{
    /// <value>
    /// Longest time one request to one server may take, body included, before the next address is tried. A blocking
    /// query (events with <c>wait</c>) gets its wait on top. Default 30 s.
    /// </value>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <value>
    /// Longest time a TCP and TLS connection to one address may take before the next is tried. Default 10 s (a refused
    /// connection fails at once; this bounds silent addresses, and a loaded machine can take seconds for a handshake).
    /// </value>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);
}
