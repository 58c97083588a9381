namespace Corral.Core.Api;

/// <summary>A node's last heartbeat as the server it talks to received it: node stats and every replica's report.</summary>
/// <param name="Node">The node.</param>
/// <param name="LastSeen">When that server received the heartbeat these stats came with (its clock).</param>
/// <param name="CertificateNotAfter">Expiry of the client certificate the heartbeat came with (for the certificate alarm).</param>
/// <param name="Replicas">The replica reports of that heartbeat (PIDs, ports, restarts, CPU, memory).</param>
public sealed record NodeDigestEntry(
    string Node,
    DateTimeOffset LastSeen,
    double? CpuPercent,
    long? MemoryUsedBytes,
    double? Load1,
    long? DiskUsedBytes,
    long? DiskTotalBytes,
    DateTimeOffset? CertificateNotAfter,
    IReadOnlyList<ReplicaReport> Replicas);
