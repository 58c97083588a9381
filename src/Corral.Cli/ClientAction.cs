using System.CommandLine;
using Corral.Client;

namespace Corral.Cli;

/// <summary>
/// Runs a verb that talks to a server: resolves the target, creates the client, and turns every failure into a
/// message on standard error and one of the <see cref="ExitCodes"/>.
/// </summary>
internal static class ClientAction
{
    /// <summary>What a verb's body gets.</summary>
    public sealed record Context(ParseResult Parse, CorralClient Client, CliOutput Output);

    public static void Set(Command command, ClientOptions options, Func<Context, CancellationToken, Task<int>> run)
    {
        command.SetAction(async (parse, invocationToken) =>
        {
            var output = CliOutput.For(parse, options.Format(parse));
            // Ctrl-C or SIGTERM cancels the verb (the entry point sets no termination timeout of its own).
            using var interrupted = CancellationTokenSource.CreateLinkedTokenSource(invocationToken);
            using var sigint = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, c => { c.Cancel = true; interrupted.Cancel(); });
            using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c => { c.Cancel = true; interrupted.Cancel(); });
            var cancellationToken = interrupted.Token;
            try
            {
                var config = options.Resolve(parse);
                using var client = new CorralClient(config, options.ClientOptionsFor(parse));
                return await run(new Context(parse, client, output), cancellationToken).ConfigureAwait(false);
            }
            catch (ClientConfigException e)
            {
                output.ErrorLine("corral: " + e.Message.Replace("\n", "\ncorral: ", StringComparison.Ordinal));
                return ExitCodes.Usage;
            }
            catch (ArgumentException e) when (e.ParamName is "config" or "address")
            {
                output.ErrorLine("corral: " + e.Message.Split(" (Parameter", 2)[0]);
                return ExitCodes.Usage;
            }
            catch (CorralApiException e)
            {
                output.Problem(e);
                return ExitCodes.FromStatus(e.Status);
            }
            catch (CorralConnectionException e)
            {
                output.ErrorLine("corral: " + e.Message);
                return e.IsTrustFailure ? ExitCodes.Failure : ExitCodes.Unavailable;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return ExitCodes.Interrupted;
            }
        });
    }
}
