namespace Corral.Testing;

/// <summary>How <see cref="EtcdCluster"/> starts its members.</summary>
public sealed record EtcdClusterOptions
{
    /// <value>The etcd binary. Default <c>/usr/bin/etcd</c> (Debian's <c>etcd-server</c>).</value>
    public string EtcdPath { get; init; } = "/usr/bin/etcd";

    /// <value>Raft heartbeat interval. Default 100 ms (etcd's default).</value>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <value>Raft election timeout. Default 1000 ms (etcd's default).</value>
    public TimeSpan ElectionTimeout { get; init; } = TimeSpan.FromMilliseconds(1000);

    /// <value>How long a start or restart may take until the cluster is healthy. Default 30 s.</value>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <value>
    /// How long <see cref="EtcdCluster.StopAsync"/> waits after SIGTERM before SIGKILL. Default 15 s (a member stopped
    /// after quorum is gone can take 6–9 s to exit).
    /// </value>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <value>
    /// When set, client URLs are <c>https://</c> with this server certificate and clients must present a certificate
    /// signed by its CA (<c>--client-cert-auth</c>); peers stay plain on loopback. Default null (plain h2c).
    /// </value>
    public EtcdTlsFiles? Tls { get; init; }

    /// <value>Extra command-line arguments for every member. Default none.</value>
    public IReadOnlyList<string> ExtraArguments { get; init; } = [];

    public static EtcdClusterOptions Default { get; } = new();
}
