using System.CommandLine;
using Corral.Core;

namespace Corral.Cli;

/// <summary><c>corral diff -f FILE [--prune]</c>: what <c>corral deploy</c> would change, changing nothing.</summary>
internal static class DiffCommand
{
    public static Command Create()
    {
        var file = DeployCommand.StackFileOption();
        var prune = DeployCommand.PruneOption();
        var command = new Command("diff", "Show what deploying a stack file would change, without changing anything.") { file, prune };
        var options = ClientOptions.AddTo(command);
        ClientAction.Set(command, options, async (context, cancellationToken) =>
        {
            var output = context.Output;
            if (StackFileInput.Read(output, context.Parse.GetValue(file)!, context.Parse.GetValue(prune)) is not { } request)
            {
                return ExitCodes.Failure;
            }
            var result = await context.Client.DiffAsync(request, cancellationToken).ConfigureAwait(false);
            if (output.Json)
            {
                output.WriteJson(result, CoreJson.Default.DeployResult);
            }
            else
            {
                StackFileInput.WriteChanges(output, result, request.File, applied: false);
            }
            return ExitCodes.Ok;
        });
        return command;
    }
}
