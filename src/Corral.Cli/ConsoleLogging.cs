using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Corral.Cli;

/// <summary>
/// How every long-running process (<c>server</c>, <c>agent</c>, <c>supervisor</c>, <c>dev</c>) logs to its console: one
/// line per message, each starting with a UTC timestamp to the millisecond, then the level, the category and the
/// EventId, so that lines from several processes and hosts can be merged and ordered.
/// </summary>
internal static class ConsoleLogging
{
    /// <summary>The timestamp that starts every line: <c>2026-12-07T21:10:05.123Z </c>.</summary>
    public const string TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";

    /// <summary>
    /// Adds the console logger with Corral's line format: Corral's own categories at <paramref name="minimum"/> and
    /// above, the framework's (<c>Microsoft.*</c>, <c>System.*</c>) from <see cref="LogLevel.Warning"/> (or
    /// <paramref name="minimum"/> when that is higher), since at Information they would describe every request.
    /// </summary>
    public static ILoggingBuilder AddCorralConsole(this ILoggingBuilder builder, LogLevel minimum = LogLevel.Information)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var framework = minimum > LogLevel.Warning ? minimum : LogLevel.Warning;
        return builder.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.UseUtcTimestamp = true;
            o.TimestampFormat = TimestampFormat;
            o.ColorBehavior = LoggerColorBehavior.Disabled;
        })
            .SetMinimumLevel(minimum)
            .AddFilter("Microsoft", framework)
            .AddFilter("System", framework);
    }

    /// <summary>A logger factory writing Corral's console lines.</summary>
    public static ILoggerFactory Create(LogLevel minimum = LogLevel.Information) => LoggerFactory.Create(b => b.AddCorralConsole(minimum));
}
