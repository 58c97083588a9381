using System.CommandLine;

namespace Corral.Cli;

/// <summary>
/// Where a join token comes from, for <c>corral agent</c> and <c>corral server join</c>: <c>--token-file FILE</c>,
/// <c>$CORRAL_JOIN_TOKEN</c>, or <c>--token</c>. An argument stays in the process list (<c>/proc/PID/cmdline</c>, readable
/// by every user of the machine) for the whole life of the process, which for these verbs is the life of the node, so
/// <c>--token</c> is warned about on stderr; a file or the environment (<c>/proc/PID/environ</c> is readable only by
/// the process's user and root) is not seen there.
/// </summary>
internal sealed class JoinTokenOptions
{
    /// <summary>The environment variable that carries a join token when neither flag is given.</summary>
    public const string Variable = "CORRAL_JOIN_TOKEN";

    /// <summary>Largest token file read: a token is about 150 characters.</summary>
    private const int MaxFileBytes = 4096;

    public required Option<string?> Token { get; init; }

    public required Option<string?> TokenFile { get; init; }

    /// <param name="purpose">What the token is, for the help text, e.g. "Join token (K10…, see 'corral node token create')".</param>
    public static JoinTokenOptions Create(string purpose) => new()
    {
        Token = new Option<string?>("--token")
        {
            Description = $"{purpose}. Visible to every user in the process list for as long as this runs: prefer --token-file or ${Variable}.",
        },
        TokenFile = new Option<string?>("--token-file")
        {
            Description = $"Read the join token from this file (its first line; keep it mode 600). Default: ${Variable}.",
        },
    };

    public void AddTo(Command command)
    {
        command.Options.Add(Token);
        command.Options.Add(TokenFile);
    }

    /// <summary>True when <c>--token</c> or <c>--token-file</c> was given (the environment does not count).</summary>
    public bool IsGiven(ParseResult parse) => parse.GetValue(Token) is not null || parse.GetValue(TokenFile) is not null;

    /// <summary>
    /// The join token text and where it came from, or null when none was given; or the exit code of a refusal, whose
    /// reason is written to <paramref name="error"/> (<c>VERB: …</c>). Writes the warning for <c>--token</c> and for a
    /// token file that group or others can read. Removes <see cref="Variable"/> from this process's environment
    /// either way, so that nothing this process starts (the supervisor and its tasks, an etcd member) inherits it.
    /// Precedence: exactly one of <c>--token</c> and <c>--token-file</c>; either wins over the environment.
    /// </summary>
    public async Task<(JoinTokenSource? Source, int? Failure)> ResolveAsync(ParseResult parse, string verb, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(parse);
        ArgumentNullException.ThrowIfNull(error);
        var fromEnvironment = Environment.GetEnvironmentVariable(Variable);
        Environment.SetEnvironmentVariable(Variable, null);
        var argument = parse.GetValue(Token);
        var file = parse.GetValue(TokenFile);
        if (argument is not null && file is not null)
        {
            await error.WriteLineAsync($"{verb}: give the join token one way: --token-file FILE, ${Variable} or --token, not both --token and --token-file").ConfigureAwait(false);
            return (null, ExitCodes.Usage);
        }
        if (argument is not null)
        {
            await error.WriteLineAsync($"{verb}: warning: --token puts the join token in the process list (/proc/{Environment.ProcessId}/cmdline), readable by every user of this machine for as long as this process runs; use --token-file FILE or ${Variable} instead").ConfigureAwait(false);
            return (new JoinTokenSource(argument.Trim(), "--token"), null);
        }
        if (file is not null)
        {
            return await ReadFileAsync(file, verb, error).ConfigureAwait(false);
        }
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            return (new JoinTokenSource(fromEnvironment.Trim(), "$" + Variable), null);
        }
        return (null, null);
    }

    private static async Task<(JoinTokenSource? Source, int? Failure)> ReadFileAsync(string path, string verb, TextWriter error)
    {
        string text;
        try
        {
            var info = new FileInfo(path);
            if (info.Exists && info.Length > MaxFileBytes)
            {
                await error.WriteLineAsync($"{verb}: --token-file {path} is {info.Length} bytes; a join token file holds one token (K10…) on one line").ConfigureAwait(false);
                return (null, ExitCodes.Usage);
            }
            text = await File.ReadAllTextAsync(path).ConfigureAwait(false);
            var mode = File.GetUnixFileMode(path);
            if ((mode & (UnixFileMode.GroupRead | UnixFileMode.OtherRead)) != 0)
            {
                await error.WriteLineAsync($"{verb}: warning: --token-file {path} can be read by other users (mode {Convert.ToString((int)mode, 8).PadLeft(4, '0')}); 'chmod 600 {path}', or delete it once the node has joined").ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync($"{verb}: cannot read --token-file {path}: {e.Message}").ConfigureAwait(false);
            return (null, ExitCodes.Failure);
        }
        var lines = text.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length == 0)
        {
            await error.WriteLineAsync($"{verb}: --token-file {path} is empty; it must hold the join token (K10…, from 'corral node token create')").ConfigureAwait(false);
            return (null, ExitCodes.Usage);
        }
        if (lines.Length > 1)
        {
            await error.WriteLineAsync($"{verb}: --token-file {path} has {lines.Length} lines; it must hold one join token on one line").ConfigureAwait(false);
            return (null, ExitCodes.Usage);
        }
        return (new JoinTokenSource(lines[0], "--token-file " + path), null);
    }
}

/// <summary>A join token as given, and where from (for messages).</summary>
internal sealed record JoinTokenSource(string Text, string From);
