namespace Corral.Core.Monitoring;

/// <summary>A node as the monitor sees it.</summary>
/// <param name="Name">Node name.</param>
/// <param name="Ready">Status ready (heartbeating).</param>
/// <param name="StatusSince">When its status last changed (for a down node: since when it is down).</param>
/// <param name="DiskUsedBytes">Used bytes of the file system holding the agent's data dir, from its last heartbeat; null when unknown.</param>
/// <param name="DiskTotalBytes">Size of that file system; null when unknown.</param>
public sealed record NodeHealth(string Name, bool Ready, DateTimeOffset StatusSince, long? DiskUsedBytes = null, long? DiskTotalBytes = null);
