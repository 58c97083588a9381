using System.Net;
using Corral.Server.Vip;

namespace Corral.Server;

/// <summary>How <c>corral server run</c> serves.</summary>
/// <param name="DataDir">An initialized data directory (see <see cref="ServerInitializer"/>).</param>
/// <param name="Listen">Address to bind. Default 127.0.0.1.</param>
/// <param name="Port">HTTPS port for the API, the agent endpoints and the dashboard. Default 7700.</param>
public sealed record ServerRunOptions(string DataDir, IPAddress Listen, int Port)
{
    public const int DefaultPort = 7700;

    /// <value>The virtual IP this server holds while it leads, with its notify hooks; null for none. Default null.</value>
    public VipOptions? Vip { get; init; }
}
