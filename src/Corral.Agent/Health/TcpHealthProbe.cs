using System.Net;
using System.Net.Sockets;

namespace Corral.Agent.Health;

/// <summary>Healthy when a TCP connection to 127.0.0.1 on the port can be opened; the connection is closed at once.</summary>
public sealed class TcpHealthProbe : IHealthProbe
{
    public TcpHealthProbe(int port)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        Port = port;
    }

    public int Port { get; }

    public async Task<ProbeResult> ProbeAsync(CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, Port), cancellationToken).ConfigureAwait(false);
            return new ProbeResult(true, $"TCP connect to 127.0.0.1:{Port} succeeded");
        }
        catch (SocketException e)
        {
            return new ProbeResult(false, $"TCP connect to 127.0.0.1:{Port} failed: {e.Message}");
        }
    }
}
