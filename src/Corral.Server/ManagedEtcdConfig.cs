using System.Globalization;
using Corral.Store.Etcd;

namespace Corral.Server;

/// <summary>The local etcd member a server started with <c>server init --ha</c> or <c>server join</c> supervises (in server.json).</summary>
/// <param name="Address">The address its peer and client URLs use (reachable by the other servers).</param>
/// <param name="ClientPort">Its client port.</param>
/// <param name="PeerPort">Its peer port.</param>
/// <param name="InitialCluster">etcd's <c>--initial-cluster</c> at its first start.</param>
/// <param name="InitialClusterState"><c>new</c> (the first server) or <c>existing</c> (a server that joined).</param>
public sealed record ManagedEtcdConfig(string Address, int ClientPort, int PeerPort, string InitialCluster, string InitialClusterState)
{
    public const int DefaultClientPort = 2379;
    public const int DefaultPeerPort = 2380;

    public string ClientUrl => $"https://{Host}:{ClientPort.ToString(CultureInfo.InvariantCulture)}";

    public string PeerUrl => $"https://{Host}:{PeerPort.ToString(CultureInfo.InvariantCulture)}";

    private string Host => Address.Contains(':', StringComparison.Ordinal) ? $"[{Address}]" : Address;

    /// <summary>The member's options for a server named <paramref name="name"/>.</summary>
    public ManagedEtcdOptions ToOptions(string name, ServerPaths paths, HaTiming timing) => new()
    {
        Name = name,
        DataDir = paths.EtcdDataDir,
        ClientUrl = ClientUrl,
        PeerUrl = PeerUrl,
        InitialCluster = InitialCluster,
        InitialClusterState = InitialClusterState,
        CaFile = paths.EtcdCaCertificate,
        CertFile = paths.EtcdCertificate,
        KeyFile = paths.EtcdKey,
        Heartbeat = timing.EtcdHeartbeat,
        ElectionTimeout = timing.EtcdElectionTimeout,
    };
}
