using System.Net;

namespace Corral.Server;

/// <summary>How <c>corral server run</c> serves.</summary>
/// <param name="DataDir">An initialized data directory (see <see cref="ServerInitializer"/>).</param>
/// <param name="Listen">Address to bind. Default 127.0.0.1.</param>
/// <param name="Port">HTTPS port for the API, the agent endpoints and the dashboard. Default 7700.</param>
public sealed record ServerRunOptions(string DataDir, IPAddress Listen, int Port)
{
    public const int DefaultPort = 7700;

    /// <value>The store to use instead of the one recorded in server.json (<c>--store</c>); null keeps server.json's. Default null.</value>
    public StoreConfig? Store { get; init; }

    /// <value>Timing to use instead of the one recorded in server.json; null keeps server.json's (or the defaults). Default null.</value>
    public HaTiming? Timing { get; init; }
}
