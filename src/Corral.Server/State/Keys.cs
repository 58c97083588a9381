namespace Corral.Server.State;

/// <summary>
/// The layout of cluster state in the store. Every value is JSON (CoreJson, snake_case). Changing a prefix is a
/// storage format change: treat it like a public API.
/// </summary>
public static class Keys
{
    public const string Root = "/corral/";
    public const string Services = "/corral/services/";
    public const string Replicas = "/corral/replicas/";
    public const string Nodes = "/corral/nodes/";
    public const string Events = "/corral/events/";
    public const string ApiKeys = "/corral/apikeys/";
    public const string JoinTokens = "/corral/tokens/";
    public const string Stacks = "/corral/stacks/";
    public const string Alarms = "/corral/alarms/";

    /// <summary>The leader monitor's last health report (HealthReport JSON).</summary>
    public const string Health = "/corral/health";

    /// <summary>Replicas' log chunks: <c>/corral/logs/SERVICE/REPLICA/FROM</c>, FROM the chunk's first offset in 20 digits.</summary>
    public const string Logs = "/corral/logs/";
    public const string NodeCertificates = "/corral/nodecerts/";
    public const string RevokedCertificates = "/corral/revoked/";

    /// <summary>The cluster CA shared by the servers of a cluster on etcd (<see cref="Security.ClusterAuthority"/>).</summary>
    public const string Authority = "/corral/cluster/authority";

    /// <summary>
    /// Liveness relayed between servers: <c>/corral/liveness/NODE/SERVER</c> exists, attached to SERVER's lease, while
    /// NODE heartbeats to SERVER.
    /// </summary>
    public const string Liveness = "/corral/liveness/";

    /// <summary>
    /// Each server's digest of the nodes that heartbeat to it (stats, replica PIDs and restarts): <c>/corral/digests/SERVER</c>,
    /// gzipped <see cref="Corral.Core.Api.NodeDigest"/> JSON attached to SERVER's liveness lease (see LivenessRelay).
    /// </summary>
    public const string Digests = "/corral/digests/";

    /// <summary>Name of the leader election of the control plane.</summary>
    public const string LeaderElection = "corral-leader";

    public static string Service(string name) => Services + name;

    public static string Replica(string id) => Replicas + id;

    public static string Node(string name) => Nodes + name;

    public static string ApiKey(string id) => ApiKeys + id;

    public static string Stack(string name) => Stacks + name;

    public static string JoinToken(string id) => JoinTokens + id;

    public static string LogChunk(string service, string replicaId, long from) =>
        $"{Logs}{service}/{replicaId}/{from.ToString("D20", System.Globalization.CultureInfo.InvariantCulture)}";
    public static string Alarm(string id) => Alarms + id;
    public static string NodeCertificate(string node) => NodeCertificates + node;

    public static string RevokedCertificate(string serial) => RevokedCertificates + serial;

    public static string NodeLiveness(string node, string server) => Liveness + node + "/" + server;

    public static string NodeDigest(string server) => Digests + server;
}
