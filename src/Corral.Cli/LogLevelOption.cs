using System.CommandLine;
using Microsoft.Extensions.Logging;

namespace Corral.Cli;

/// <summary>
/// <c>--log-level</c> of the long-running processes (<c>server run|join</c>, <c>agent</c>, <c>supervisor</c>,
/// <c>dev</c>): the least level of Corral's own messages; the flag wins over <c>CORRAL_LOG_LEVEL</c>, which wins over
/// <see cref="LogLevel.Information"/>. A bad value is refused before the process does anything.
/// </summary>
internal sealed class LogLevelOption
{
    /// <summary>The environment variable read when the flag is not given (a systemd unit's <c>Environment=</c>).</summary>
    public const string EnvironmentVariable = "CORRAL_LOG_LEVEL";

    /// <summary>The names accepted, least severe first.</summary>
    public static readonly IReadOnlyList<string> Names = ["trace", "debug", "information", "warning", "error"];

    private readonly Option<string?> _option = new("--log-level")
    {
        Description = $"Least level of Corral's log lines: {string.Join(", ", Names)} (default: ${EnvironmentVariable}, else information). Microsoft.* and System.* log from warning.",
    };

    public void AddTo(Command command) => command.Options.Add(_option);

    /// <summary>The level in force, or null after writing to the command's error output which value is bad and why.</summary>
    public async Task<LogLevel?> ResolveAsync(ParseResult parse, string commandName)
    {
        ArgumentNullException.ThrowIfNull(parse);
        if (TryGet(parse, out var level, out var error))
        {
            return level;
        }
        await parse.InvocationConfiguration.Error.WriteLineAsync($"{commandName}: {error}").ConfigureAwait(false);
        return null;
    }

    /// <summary>The level in force; false with the reason when the value that applies is not a level name.</summary>
    public bool TryGet(ParseResult parse, out LogLevel level, out string error)
    {
        ArgumentNullException.ThrowIfNull(parse);
        return TryResolve(parse.GetValue(_option), Environment.GetEnvironmentVariable(EnvironmentVariable), out level, out error);
    }

    /// <summary>The name <paramref name="level"/> is given by on a command line (for a process started with the same level).</summary>
    public static string NameOf(LogLevel level) => level is >= LogLevel.Trace and <= LogLevel.Error
        ? Names[(int)level]
        : throw new ArgumentOutOfRangeException(nameof(level), level, "no --log-level name");

    /// <summary>
    /// The level from the flag's value, else the environment's (empty counts as unset), else Information; false with
    /// <paramref name="error"/> naming where the bad value came from when the one that applies is not a level name.
    /// </summary>
    internal static bool TryResolve(string? flag, string? environment, out LogLevel level, out string error)
    {
        var (text, source) = flag is not null ? (flag, "--log-level") : !string.IsNullOrWhiteSpace(environment) ? (environment, EnvironmentVariable) : (null, null);
        error = string.Empty;
        if (text is null)
        {
            level = LogLevel.Information;
            return true;
        }
        var index = Names.ToList().FindIndex(n => string.Equals(n, text.Trim(), StringComparison.OrdinalIgnoreCase));
        if (index < 0)
        {
            level = LogLevel.None;
            error = $"{source} '{text}' is not a log level: use one of {string.Join(", ", Names)}";
            return false;
        }
        // The names are LogLevel's, in its order: Trace = 0 … Error = 4.
        level = (LogLevel)index;
        return true;
    }
}
