namespace Corral.Agent.Stats;

/// <summary>Resource use of the whole node.</summary>
/// <param name="CpuCount">Logical CPUs available to this process.</param>
/// <param name="CpuPercent">Busy share of all CPUs since the previous sample (since boot on the first), 0–100.</param>
/// <param name="MemoryTotalBytes">MemTotal from /proc/meminfo.</param>
/// <param name="MemoryAvailableBytes">MemAvailable from /proc/meminfo: what can be allocated without swapping.</param>
/// <param name="DiskTotalBytes">Size of the file system holding the sampler's disk path.</param>
/// <param name="DiskFreeBytes">Bytes of that file system available to unprivileged users.</param>
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
    double Load1,
    double Load5,
    double Load15,
    DateTimeOffset At)
{
    /// <summary>Bytes of the disk path's file system in use (by anyone, reserved blocks included), for the disk alarm.</summary>
    public long DiskUsedBytes => Math.Max(0, DiskTotalBytes - DiskFreeBytes);

    /// <summary>Used share of the disk path's file system, 0–100.</summary>
    public double DiskUsedPercent => DiskTotalBytes > 0 ? 100.0 * DiskUsedBytes / DiskTotalBytes : 0;
}
