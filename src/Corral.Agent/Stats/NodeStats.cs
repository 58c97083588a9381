namespace Corral.Agent.Stats;

/// <summary>Resource use of the whole node.</summary>
/// <param name="CpuCount">Logical CPUs available to this process.</param>
/// <param name="CpuPercent">Busy share of all CPUs since the previous sample (since boot on the first), 0–100.</param>
/// <param name="MemoryTotalBytes">MemTotal from /proc/meminfo.</param>
/// <param name="MemoryAvailableBytes">MemAvailable from /proc/meminfo: what can be allocated without swapping.</param>
/// <param name="DiskTotalBytes">Size of the file system holding the sampler's disk path.</param>
/// <param name="DiskFreeBytes">Bytes of that file system available to unprivileged users.</param>
/// <param name="DiskUsedBytes">Bytes of that file system in use (its size less all its free blocks, reserved ones included).</param>
/// <param name="Load1">1-minute load average.</param>
/// <param name="Load5">5-minute load average.</param>
/// <param name="Load15">15-minute load average.</param>
/// <param name="At">When the sample was taken.</param>
public sealed record NodeStats(
    int CpuCount,
    double CpuPercent,
    long MemoryTotalBytes,
    long MemoryAvailableBytes,
    long DiskTotalBytes,
    long DiskFreeBytes,
    long DiskUsedBytes,
    double Load1,
    double Load5,
    double Load15,
    DateTimeOffset At)
{
    /// <summary>What users can fill: used plus available (blocks reserved for root left out), as <c>df</c> counts.</summary>
    public long DiskUsableBytes => DiskUsedBytes + DiskFreeBytes;

    /// <summary>Used share of what users can fill, 0–100: <c>df</c>'s Use% (the disk alarm's measure).</summary>
    public double DiskUsedPercent => DiskUsableBytes > 0 ? 100.0 * DiskUsedBytes / DiskUsableBytes : 0;
}
