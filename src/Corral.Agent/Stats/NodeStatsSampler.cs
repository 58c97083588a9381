using System.Globalization;

namespace Corral.Agent.Stats;

/// <summary>
/// Samples node-wide CPU, memory, disk and load from <c>/proc/stat</c>, <c>/proc/meminfo</c>, <c>/proc/loadavg</c>
/// and the file system holding a given path (Linux). Calls are serialised.
/// </summary>
public sealed class NodeStatsSampler
{
    private readonly string _diskPath;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private long _previousBusy;
    private long _previousTotal;

    /// <param name="diskPath">A path on the file system whose size and free space to report (e.g. the data directory).</param>
    /// <param name="time">The clock stamping samples.</param>
    public NodeStatsSampler(string diskPath, TimeProvider time)
    {
        ArgumentException.ThrowIfNullOrEmpty(diskPath);
        ArgumentNullException.ThrowIfNull(time);
        _diskPath = Path.GetFullPath(diskPath);
        _time = time;
    }

    /// <exception cref="IOException">A /proc file or the disk path cannot be read.</exception>
    public NodeStats Sample()
    {
        lock (_lock)
        {
            var (busy, total) = ReadCpu();
            var deltaTotal = total - _previousTotal;
            var cpu = deltaTotal > 0 ? Math.Clamp((busy - _previousBusy) * 100.0 / deltaTotal, 0, 100) : 0;
            _previousBusy = busy;
            _previousTotal = total;

            var (memTotal, memAvailable) = ReadMemory();
            var (load1, load5, load15) = ReadLoad();
            var drive = new DriveInfo(_diskPath);
            return new NodeStats(
                Environment.ProcessorCount,
                cpu,
                memTotal,
                memAvailable,
                drive.TotalSize,
                drive.AvailableFreeSpace,
                Math.Max(0, drive.TotalSize - drive.TotalFreeSpace),
                load1,
                load5,
                load15,
                _time.GetUtcNow());
        }
    }

    private static (long Busy, long Total) ReadCpu()
    {
        // First line: "cpu  user nice system idle iowait irq softirq steal guest guest_nice".
        // guest and guest_nice are already inside user and nice, so only the first eight are summed.
        using var reader = new StreamReader("/proc/stat");
        var line = reader.ReadLine() ?? throw new IOException("/proc/stat is empty");
        var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 5 || fields[0] != "cpu")
        {
            throw new IOException($"unexpected first line in /proc/stat: '{line}'");
        }
        long total = 0;
        long idle = 0;
        for (var i = 1; i < Math.Min(fields.Length, 9); i++)
        {
            var value = long.Parse(fields[i], CultureInfo.InvariantCulture);
            total += value;
            if (i is 4 or 5)
            {
                idle += value;
            }
        }
        return (total - idle, total);
    }

    private static (long Total, long Available) ReadMemory()
    {
        long total = -1;
        long available = -1;
        foreach (var line in File.ReadLines("/proc/meminfo"))
        {
            if (line.StartsWith("MemTotal:", StringComparison.Ordinal))
            {
                total = ParseKilobytes(line);
            }
            else if (line.StartsWith("MemAvailable:", StringComparison.Ordinal))
            {
                available = ParseKilobytes(line);
            }
            if (total >= 0 && available >= 0)
            {
                break;
            }
        }
        if (total < 0 || available < 0)
        {
            throw new IOException("/proc/meminfo lacks MemTotal or MemAvailable");
        }
        return (total, available);
    }

    private static long ParseKilobytes(string line)
    {
        // "MemTotal:       16318412 kB"
        var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return long.Parse(parts[1], CultureInfo.InvariantCulture) * 1024;
    }

    private static (double, double, double) ReadLoad()
    {
        // "0.33 0.37 0.18 1/123 4567"
        var parts = File.ReadAllText("/proc/loadavg").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 3)
        {
            throw new IOException("unexpected /proc/loadavg");
        }
        return (
            double.Parse(parts[0], CultureInfo.InvariantCulture),
            double.Parse(parts[1], CultureInfo.InvariantCulture),
            double.Parse(parts[2], CultureInfo.InvariantCulture));
    }
}
