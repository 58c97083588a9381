using System.CommandLine;

namespace Corral.Cli.Tests;

/// <summary>The outcome of one in-process <c>corral</c> run: exit code, standard output, standard error.</summary>
internal sealed record CliRun(int ExitCode, string Out, string Error)
{
    /// <summary>Runs <c>corral ARGS</c> in this process with its output captured.</summary>
    public static async Task<CliRun> RunAsync(IEnumerable<string> args, CancellationToken cancellationToken = default)
    {
        using var output = new ConcurrentWriter();
        using var error = new ConcurrentWriter();
        var code = await RunAsync(args, output, error, cancellationToken);
        return new CliRun(code, output.ToString(), error.ToString());
    }

    public static Task<int> RunAsync(IEnumerable<string> args, TextWriter output, TextWriter error, CancellationToken cancellationToken) =>
        CorralCommand.RunAsync([.. args], new InvocationConfiguration { Output = output, Error = error, ProcessTerminationTimeout = null }, cancellationToken);

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Out}\n--- stderr\n{Error}";
}
