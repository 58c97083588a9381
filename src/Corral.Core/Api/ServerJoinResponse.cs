namespace Corral.Core.Api;

/// <summary>
/// What a joining server needs: the cluster's CAs (with their keys: a server issues certificates) and how to start its
/// etcd member, already added to the cluster through etcd's member API.
/// </summary>
/// <param name="Cluster">The cluster's name.</param>
/// <param name="CaCertificatePem">The cluster CA.</param>
/// <param name="CaKeyPem">The cluster CA's key.</param>
/// <param name="EtcdCaCertificatePem">The etcd members' CA.</param>
/// <param name="EtcdCaKeyPem">Its key.</param>
/// <param name="InitialCluster">etcd's <c>--initial-cluster</c> for the new member, every member included.</param>
/// <param name="EtcdEndpoints">Every member's client URL, the new one included.</param>
public sealed record ServerJoinResponse(
    string Cluster,
    string CaCertificatePem,
    string CaKeyPem,
    string EtcdCaCertificatePem,
    string EtcdCaKeyPem,
    string InitialCluster,
    IReadOnlyList<string> EtcdEndpoints);
