using System.Globalization;
using System.Text;
using Corral.Agent.Logs;

namespace Corral.Agent.Runtime;

/// <summary>
/// Delivers log lines into <c>DIR/ID.log</c>, one line each: <c>OFFSET NEXT-OFFSET TIME STREAM TEXT</c>. The last
/// whole line says how far delivery got, so a crash between writing lines and saving the replica's record cannot
/// cause a duplicate; a partial line left by a crash is cut off when delivery resumes. Thread-safe.
/// </summary>
public sealed class FileLogSink(string directory) : ILogSink
{
    private readonly Lock _lock = new();
    private readonly HashSet<string> _repaired = new(StringComparer.Ordinal);

    public string PathOf(string taskId) => Path.Combine(directory, taskId + ".log");

    public long? DeliveredOffset(string taskId)
    {
        lock (_lock)
        {
            var path = PathOf(taskId);
            if (!File.Exists(path))
            {
                return null;
            }
            using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
            var length = file.Length;
            var window = (int)Math.Min(length, 1024 * 1024);
            var buffer = new byte[window];
            file.Seek(length - window, SeekOrigin.Begin);
            file.ReadExactly(buffer);
            var end = Array.LastIndexOf(buffer, (byte)'\n');
            if (end < 0)
            {
                file.SetLength(0);
                return null;
            }
            if (end != window - 1)
            {
                // A partial last line from a crash mid-write: cut it off.
                file.SetLength(length - window + end + 1);
            }
            var start = end == 0 ? 0 : Array.LastIndexOf(buffer, (byte)'\n', end - 1) + 1;
            var line = Encoding.UTF8.GetString(buffer, start, end - start);
            var fields = line.Split(' ', 3);
            _repaired.Add(taskId);
            return fields.Length >= 2 && long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var next) ? next : null;
        }
    }

    public void Deliver(string taskId, IReadOnlyList<LogLine> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        if (lines.Count == 0)
        {
            return;
        }
        var text = new StringBuilder();
        foreach (var line in lines)
        {
            text.Append(line.Offset.ToString(CultureInfo.InvariantCulture)).Append(' ')
                .Append(line.NextOffset.ToString(CultureInfo.InvariantCulture)).Append(' ')
                .Append(line.Time?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture) ?? "-").Append(' ')
                .Append(line.Stream.Length == 0 ? "-" : line.Stream).Append(' ')
                .Append(line.Text).Append('\n');
        }
        lock (_lock)
        {
            Directory.CreateDirectory(directory);
            if (!_repaired.Contains(taskId))
            {
                DeliveredOffset(taskId);
            }
            using var file = new FileStream(PathOf(taskId), FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
            file.Write(Encoding.UTF8.GetBytes(text.ToString()));
        }
    }
}
