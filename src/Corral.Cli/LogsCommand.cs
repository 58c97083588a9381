using System.CommandLine;
using Corral.Core;
using Corral.Core.Api;

namespace Corral.Cli;

/// <summary>
/// <c>corral logs SERVICE [-f] [--since 10m] [--node N] [--replica ID] [--tail 100]</c>: the lines of a service's
/// replicas as the servers keep them (also of replicas whose node is gone), oldest first; with <c>-f</c> it keeps
/// printing new lines until Ctrl-C. <c>-o json</c> prints one JSON record per line (NDJSON).
/// </summary>
internal static class LogsCommand
{
    public static Command Create()
    {
        var service = new Argument<string>("SERVICE") { Description = "The service whose replicas' logs to show." };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new lines as they arrive, until Ctrl-C." };
        var since = new Option<string?>("--since") { Description = "Only lines from this long ago (10m, 2h, 1d) or since this RFC 3339 time." };
        var node = new Option<string?>("--node") { Description = "Only lines of replicas that ran on this node." };
        var replica = new Option<string?>("--replica") { Description = "Only lines of this replica." };
        var tail = new Option<int?>("--tail") { Description = "Only the last N lines (then new ones with -f)." };
        var command = new Command("logs", "Show a service's logs, collected from every node by the servers.") { service, follow, since, node, replica, tail };
        var options = ClientOptions.AddTo(command);
        ClientAction.Set(command, options, async (context, cancellationToken) =>
        {
            var output = context.Output;
            var parse = context.Parse;
            if (parse.GetValue(tail) is < 0)
            {
                output.ErrorLine($"corral logs: --tail {parse.GetValue(tail)} must be 0 or more");
                return ExitCodes.Usage;
            }
            var lines = context.Client.GetLogsAsync(
                parse.GetValue(service)!,
                parse.GetValue(node),
                parse.GetValue(replica),
                parse.GetValue(since),
                parse.GetValue(tail),
                parse.GetValue(follow),
                cancellationToken);
            try
            {
                await foreach (var record in lines.ConfigureAwait(false))
                {
                    if (output.Json)
                    {
                        output.WriteJsonLine(record, CoreJson.Default.LogRecord);
                    }
                    else
                    {
                        output.Line(Line(record));
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && parse.GetValue(follow))
            {
                // Ctrl-C is how following ends.
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>One line for people: <c>REPLICA@NODE | TEXT</c>, stderr lines marked.</summary>
    internal static string Line(LogRecord record) =>
        $"{record.ReplicaId}@{record.Node} | {(record.Stream == "stderr" ? "[stderr] " : "")}{record.Text}";
}
