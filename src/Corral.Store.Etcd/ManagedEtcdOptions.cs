namespace Corral.Store.Etcd;

/// <summary>
/// A local etcd member that a Corral server starts and supervises (<c>corral server init --ha</c>): peer and client
/// TLS from a CA only the servers hold, so neither agents nor anyone else can talk to it.
/// </summary>
public sealed record ManagedEtcdOptions
{
    /// <value>The etcd binary. Default <c>/usr/bin/etcd</c> (Debian's etcd-server).</value>
    public string EtcdPath { get; init; } = "/usr/bin/etcd";

    /// <value>The member's name (the server's name).</value>
    public required string Name { get; init; }

    /// <value>The member's data directory.</value>
    public required string DataDir { get; init; }

    /// <value>The client URL it listens on and advertises, <c>https://IP:PORT</c>.</value>
    public required string ClientUrl { get; init; }

    /// <value>The peer URL it listens on and advertises, <c>https://IP:PORT</c>.</value>
    public required string PeerUrl { get; init; }

    /// <value>etcd's <c>--initial-cluster</c>: <c>NAME=PEERURL,...</c>, this member included.</value>
    public required string InitialCluster { get; init; }

    /// <value><c>new</c> for the first member, <c>existing</c> for one added through the member API.</value>
    public string InitialClusterState { get; init; } = "new";

    /// <value>PEM CA that signs every member's certificate (peer and client TLS are both verified against it).</value>
    public required string CaFile { get; init; }

    /// <value>This member's PEM certificate (server and client auth).</value>
    public required string CertFile { get; init; }

    /// <value>Its PEM private key.</value>
    public required string KeyFile { get; init; }

    /// <value>Raft heartbeat interval. Default 100 ms.</value>
    public TimeSpan Heartbeat { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <value>Raft election timeout. Default 1 s.</value>
    public TimeSpan ElectionTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// etcd's command line for these options. Pre-vote is on (etcd 3.4's default is off): a member cut off from the
    /// others then does not raise its raft term while alone, so when it comes back it does not depose the etcd leader
    /// and stall every lease renewal for an election.
    /// </summary>
    public IReadOnlyList<string> Arguments() =>
    [
        "--name", Name,
        "--data-dir", DataDir,
        "--listen-client-urls", ClientUrl,
        "--advertise-client-urls", ClientUrl,
        "--listen-peer-urls", PeerUrl,
        "--initial-advertise-peer-urls", PeerUrl,
        "--initial-cluster", InitialCluster,
        "--initial-cluster-state", InitialClusterState,
        "--initial-cluster-token", "corral",
        "--client-cert-auth", "--trusted-ca-file", CaFile, "--cert-file", CertFile, "--key-file", KeyFile,
        "--peer-client-cert-auth", "--peer-trusted-ca-file", CaFile, "--peer-cert-file", CertFile, "--peer-key-file", KeyFile,
        "--heartbeat-interval", ((long)Heartbeat.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--election-timeout", ((long)ElectionTimeout.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture),
        // A member cut off from the others bumps its term again and again; without pre-vote, on healing it forces an etcd
        // election that stalls every lease renewal and can depose a healthy Corral leader (seen in the lab's heal).
        // With pre-vote it first asks whether it could win, and rejoins as a follower.
        "--pre-vote=true",
        "--logger", "zap", "--log-level", "warn",
    ];
}
