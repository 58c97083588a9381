using System.Globalization;
using System.Text.RegularExpressions;

namespace Corral.Testing.Logging;

/// <summary>
/// One line a Corral process logged on its console (<c>2026-12-07T21:10:05.123Z info: Category[6200] message</c>,
/// docs/operations.md), as a test reads it back from the process's output file.
/// </summary>
public sealed partial record ConsoleLogLine(DateTimeOffset At, string Level, string Category, int EventId, string Message)
{
    /// <summary>Every log line of <paramref name="output"/>, in order; other lines (a process's startup line) are skipped.</summary>
    public static IReadOnlyList<ConsoleLogLine> Parse(string output)
    {
        ArgumentNullException.ThrowIfNull(output);
        return [.. Line().Matches(output).Select(m => new ConsoleLogLine(
            DateTimeOffset.ParseExact(m.Groups["at"].Value, "yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal),
            m.Groups["level"].Value,
            m.Groups["category"].Value,
            int.Parse(m.Groups["id"].Value, CultureInfo.InvariantCulture),
            m.Groups["message"].Value.TrimEnd('\r')))];
    }

    /// <summary>True when <paramref name="line"/> has the log line format, timestamp first.</summary>
    public static bool IsLogLine(string line) => Line().IsMatch(line);

    [GeneratedRegex(@"^(?<at>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (?<level>trce|dbug|info|warn|fail|crit): (?<category>[^\s\[]+)\[(?<id>\d+)\] (?<message>.*)$", RegexOptions.Multiline)]
    private static partial Regex Line();
}
