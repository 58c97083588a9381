using System.Net;
using Corral.Server.Leadership;
using Corral.Server.Vip;

namespace Corral.Server;

/// <summary>How <c>corral server run</c> serves.</summary>
/// <param name="DataDir">An initialized data directory (see <see cref="ServerInitializer"/>).</param>
/// <param name="Listen">Address to bind. Default 127.0.0.1.</param>
/// <param name="Port">HTTPS port for the API, the agent endpoints and the dashboard. Default 7700.</param>
public sealed record ServerRunOptions(string DataDir, IPAddress Listen, int Port)
{
    public const int DefaultPort = 7700;

    /// <value>How much of the replicas' logs the cluster keeps (docs/logs.md). Default 64 MiB and 7 days.</value>
    public Logs.LogRetentionOptions LogRetention { get; init; } = new();

    /// <value>How much of the event log the cluster keeps (docs/api.md, Events). Default 10,000 events and 7 days.</value>
    public Controllers.EventRetentionOptions EventRetention { get; init; } = new();

    /// <value>
    /// A node with no heartbeat for this long is marked down (<see cref="ControlPlaneOptions.HeartbeatGrace"/>):
    /// 1 s to 5 min. Default 5 s.
    /// </value>
    public TimeSpan HeartbeatGrace { get; init; } = ControlPlaneOptions.Default.HeartbeatGrace;

    /// <value>How long the node certificates this server issues (at join and renewal) are valid. Default 1 year, at least 10 s.</value>
    public TimeSpan NodeCertificateValidity { get; init; } = Security.NodeCertificates.DefaultValidity;

    /// <value>The virtual IP this server holds while it leads, with its notify hooks; null for none. Default null.</value>
    public VipOptions? Vip { get; init; }

    /// <value>The store to use instead of the one recorded in server.json (<c>--store</c>); null keeps server.json's. Default null.</value>
    public StoreConfig? Store { get; init; }

    /// <value>Timing to use instead of the one recorded in server.json; null keeps server.json's (or the defaults). Default null.</value>
    public HaTiming? Timing { get; init; }
}
