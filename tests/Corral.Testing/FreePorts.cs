using System.Net;
using System.Net.Sockets;

namespace Corral.Testing;

/// <summary>Hands out loopback TCP ports that were free when asked and are not handed out twice in this process.</summary>
public static class FreePorts
{
    private static readonly Lock Gate = new();
    private static readonly HashSet<int> Handed = [];

    public static int Next()
    {
        lock (Gate)
        {
            for (var attempt = 0; attempt < 1000; attempt++)
            {
                using var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                var port = ((IPEndPoint)listener.LocalEndpoint).Port;
                listener.Stop();
                if (Handed.Add(port))
                {
                    return port;
                }
            }
            throw new InvalidOperationException("no free loopback port found in 1000 attempts");
        }
    }
}
