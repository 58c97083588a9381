namespace Corral.Server.Security;

/// <summary>
/// The cluster CA as kept in a shared store (<see cref="State.Keys.Authority"/>), so every server of a cluster on etcd
/// issues and trusts the same certificates. Whoever can read the store can read the key: protect etcd with TLS
/// and auth (see docs/ha.md).
/// </summary>
/// <param name="Cluster">The cluster's name.</param>
/// <param name="CertificatePem">The CA certificate.</param>
/// <param name="KeyPem">The CA's PKCS#8 private key.</param>
public sealed record ClusterAuthority(string Cluster, string CertificatePem, string KeyPem)
{
    /// <summary>The managed etcd members' CA certificate, when the cluster runs managed etcd.</summary>
    public string? EtcdCaCertificatePem { get; init; }

    /// <summary>Its private key.</summary>
    public string? EtcdCaKeyPem { get; init; }
}
