namespace Corral.Server.Controllers;

/// <summary>The last heartbeat a node sent to this server, with the stats it carried.</summary>
public sealed record NodeHeartbeat(DateTimeOffset LastSeen, double? CpuPercent, long? MemoryUsedBytes, double? Load1);
