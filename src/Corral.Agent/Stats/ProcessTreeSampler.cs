using System.Globalization;
using System.IO.Enumeration;

namespace Corral.Agent.Stats;

/// <summary>
/// Samples CPU and memory of task process trees from <c>/proc</c> (Linux). A task is named by its session leader's pid:
/// every task runs in its own session whose id is that pid, so one pass over <c>/proc/*/stat</c> groups every process
/// of every task, including grandchildren re-parented away from the task.
/// </summary>
/// <remarks>
/// CPU is the growth of utime + stime + cutime + cstime summed over the session, divided by the wall time since the
/// previous sample of that session. A session's state is kept only while it is asked for. Calls are serialised; the
/// scan reuses its buffers and allocates little per process, so sampling hundreds of tasks every few seconds is cheap.
/// </remarks>
public sealed class ProcessTreeSampler
{
    private readonly TimeProvider _time;
    private const string ProcRoot = "/proc";
    private readonly Lock _lock = new();
    private readonly byte[] _buffer = new byte[4096];
    private readonly HashSet<int> _wanted = [];
    private readonly Dictionary<int, Totals> _totals = [];
    private readonly Dictionary<int, Previous> _previous = [];
    private readonly List<int> _stale = [];
    private readonly Dictionary<int, string> _statPaths = [];

    public ProcessTreeSampler(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
    }

    /// <summary>
    /// Stats for each session in <paramref name="sessionLeaderPids"/> that has at least one live process; a session
    /// with none is absent from the result. The first sample of a session reports 0 % CPU.
    /// </summary>
    public IReadOnlyDictionary<int, TaskStats> Sample(IReadOnlyCollection<int> sessionLeaderPids)
    {
        ArgumentNullException.ThrowIfNull(sessionLeaderPids);
        lock (_lock)
        {
            _wanted.Clear();
            _totals.Clear();
            foreach (var pid in sessionLeaderPids)
            {
                _wanted.Add(pid);
            }

            if (_wanted.Count > 0)
            {
                Scan();
            }

            var timestamp = _time.GetTimestamp();
            var now = _time.GetUtcNow();
            var result = new Dictionary<int, TaskStats>(_totals.Count);
            foreach (var (session, totals) in _totals)
            {
                var cpu = 0.0;
                if (_previous.TryGetValue(session, out var previous))
                {
                    var wall = _time.GetElapsedTime(previous.Timestamp, timestamp).TotalSeconds;
                    var ticks = Math.Max(0, totals.CpuTicks - previous.CpuTicks);
                    cpu = wall > 0 ? ticks / (double)LinuxSystem.ClockTicksPerSecond / wall * 100.0 : 0;
                }
                _previous[session] = new Previous(totals.CpuTicks, timestamp);
                result[session] = new TaskStats(cpu, totals.RssPages * LinuxSystem.PageSize, totals.Processes, now);
            }

            _stale.Clear();
            foreach (var session in _previous.Keys)
            {
                if (!_totals.ContainsKey(session))
                {
                    _stale.Add(session);
                }
            }
            foreach (var session in _stale)
            {
                _previous.Remove(session);
            }
            TrimPathCache();
            return result;
        }
    }

    private void Scan()
    {
        var enumerable = new FileSystemEnumerable<int>(
            ProcRoot,
            static (ref FileSystemEntry entry) => int.Parse(entry.FileName, NumberStyles.None, CultureInfo.InvariantCulture),
            new EnumerationOptions { RecurseSubdirectories = false, IgnoreInaccessible = true, AttributesToSkip = 0 })
        {
            ShouldIncludePredicate = static (ref FileSystemEntry entry) => entry.IsDirectory && IsAllDigits(entry.FileName),
        };

        foreach (var pid in enumerable)
        {
            var length = ReadStat(pid);
            if (length <= 0)
            {
                continue;
            }
            var line = _buffer.AsSpan(0, length);
            if (!ProcStatLine.TryParseSession(line, out var session) || !_wanted.Contains(session))
            {
                continue;
            }
            if (!ProcStatLine.TryParse(line, out var stat) || stat.State is 'Z' or 'X')
            {
                continue;
            }
            _totals.TryGetValue(session, out var totals);
            _totals[session] = new Totals(totals.CpuTicks + stat.CpuTicks, totals.RssPages + stat.RssPages, totals.Processes + 1);
        }
    }

    private int ReadStat(int pid)
    {
        if (!_statPaths.TryGetValue(pid, out var path))
        {
            path = string.Concat(ProcRoot, "/", pid.ToString(CultureInfo.InvariantCulture), "/stat");
            _statPaths[pid] = path;
        }
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            return RandomAccess.Read(handle, _buffer, 0);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The process ended between listing and reading.
            _statPaths.Remove(pid);
            return 0;
        }
    }

    private void TrimPathCache()
    {
        // Pid paths are cached across rounds; drop the cache when pid churn has grown it well past a normal size.
        if (_statPaths.Count > 65536)
        {
            _statPaths.Clear();
        }
    }

    private static bool IsAllDigits(ReadOnlySpan<char> name)
    {
        if (name.IsEmpty || name.Length > 9)
        {
            return false;
        }
        foreach (var c in name)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }
        return true;
    }

    private readonly record struct Totals(long CpuTicks, long RssPages, int Processes);

    private readonly record struct Previous(long CpuTicks, long Timestamp);
}
