using System.Globalization;

namespace Corral.Agent.Logs;

/// <summary>
/// One file of a task's log: named by the log offset of its first byte, so an offset (bytes written
/// since the task's first start) names the same line whichever segments still exist.
/// </summary>
public sealed record LogSegment(long Start, string Path)
{
    private const string Suffix = ".log";

    /// <summary>The file name of the segment that starts at <paramref name="start"/>.</summary>
    public static string FileName(long start) => start.ToString("D20", CultureInfo.InvariantCulture) + Suffix;

    /// <summary>The segments in <paramref name="directory"/>, oldest first; empty when there is none.</summary>
    public static List<LogSegment> List(string directory)
    {
        var result = new List<LogSegment>();
        if (!Directory.Exists(directory))
        {
            return result;
        }
        foreach (var path in Directory.EnumerateFiles(directory, "*" + Suffix))
        {
            var name = System.IO.Path.GetFileNameWithoutExtension(path);
            if (name.Length == 20 && long.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var start))
            {
                result.Add(new LogSegment(start, path));
            }
        }
        result.Sort((a, b) => a.Start.CompareTo(b.Start));
        return result;
    }
}
