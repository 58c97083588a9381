namespace Corral.Server.Controllers;

/// <summary>The last heartbeat a node sent to this server, with the stats it carried and the expiry of the client certificate it came with.</summary>
public sealed record NodeHeartbeat(
    DateTimeOffset LastSeen,
    double? CpuPercent,
    long? MemoryUsedBytes,
    double? Load1,
    long? DiskUsedBytes = null,
    long? DiskTotalBytes = null,
    DateTimeOffset? CertificateNotAfter = null);
