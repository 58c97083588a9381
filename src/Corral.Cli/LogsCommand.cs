using System.CommandLine;
using Corral.Core;
using Corral.Core.Api;

namespace Corral.Cli;

/// <summary>
/// <c>corral logs SERVICE [-f] [--since 10m] [--node N] [--replica ID] [--tail 100]</c>: the lines of a service's
/// replicas as the servers keep them (also of replicas whose node is gone), oldest first; with <c>-f</c> it keeps
/// printing new lines until Ctrl-C, and when the server goes away it asks again (the next server of the config) from a
/// minute before the newest line shown, skipping lines it showed. <c>-o json</c> prints one JSON record per line (NDJSON).
/// </summary>
internal static class LogsCommand
{
    /// <summary>Pause before following again after the server went away.</summary>
    private static readonly TimeSpan Reconnect = TimeSpan.FromSeconds(1);

    /// <summary>How far before the newest line shown a reconnect asks from.</summary>
    private static readonly TimeSpan ReconnectOverlap = TimeSpan.FromMinutes(1);

    public static Command Create()
    {
        var service = new Argument<string>("SERVICE") { Description = "The service whose replicas' logs to show." };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new lines as they arrive, until Ctrl-C." };
        var sinceOption = new Option<string?>("--since") { Description = "Only lines from this long ago (10m, 2h, 1d) or since this RFC 3339 time." };
        var node = new Option<string?>("--node") { Description = "Only lines of replicas that ran on this node." };
        var replica = new Option<string?>("--replica") { Description = "Only lines of this replica." };
        var tailOption = new Option<int?>("--tail") { Description = "Only the last N lines (then new ones with -f)." };
        var command = new Command("logs", "Show a service's logs, collected from every node by the servers.") { service, follow, sinceOption, node, replica, tailOption };
        var options = ClientOptions.AddTo(command);
        ClientAction.Set(command, options, async (context, cancellationToken) =>
        {
            var output = context.Output;
            var parse = context.Parse;
            if (parse.GetValue(tailOption) is < 0)
            {
                output.ErrorLine($"corral logs: --tail {parse.GetValue(tailOption)} must be 0 or more");
                return ExitCodes.Usage;
            }
            var following = parse.GetValue(follow);
            var since = parse.GetValue(sinceOption);
            var tail = parse.GetValue(tailOption);
            var printed = new Dictionary<string, long>(StringComparer.Ordinal);
            DateTimeOffset? newest = null;
            var connected = false;
            while (true)
            {
                try
                {
                    var lines = context.Client.GetLogsAsync(parse.GetValue(service)!, parse.GetValue(node), parse.GetValue(replica), since, tail, following, cancellationToken);
                    await foreach (var record in lines.ConfigureAwait(false))
                    {
                        connected = true;
                        // After a reconnect the server sends the last minute again: show each line once.
                        if (printed.TryGetValue(record.ReplicaId, out var shown) && record.Offset <= shown)
                        {
                            continue;
                        }
                        printed[record.ReplicaId] = record.Offset;
                        newest = newest is { } n && n > record.Time ? n : record.Time;
                        if (output.Json)
                        {
                            output.WriteJsonLine(record, CoreJson.Default.LogRecord);
                        }
                        else
                        {
                            output.Line(Line(record));
                        }
                    }
                    if (!following)
                    {
                        return ExitCodes.Ok;
                    }
                    connected = true;
                    output.ErrorLine("corral logs: the server ended the stream; following again");
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && following)
                {
                    // Ctrl-C is how following ends.
                    return ExitCodes.Ok;
                }
                catch (Client.CorralConnectionException e) when (following && (connected || e.InnerException is IOException or HttpRequestException))
                {
                    connected = true;
                    output.ErrorLine($"corral logs: {e.Message}; following again in {Durations.Format(Reconnect)}");
                }
                try
                {
                    await Task.Delay(Reconnect, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return ExitCodes.Ok;
                }
                // Ask again from a minute before the newest line shown (lines shipped late can be a little older).
                if (newest is { } last)
                {
                    since = (last - ReconnectOverlap).ToString("O", System.Globalization.CultureInfo.InvariantCulture);
                }
                tail = null;
            }
        });
        return command;
    }

    /// <summary>One line for people: <c>REPLICA@NODE | TEXT</c>, stderr lines marked.</summary>
    internal static string Line(LogRecord record) =>
        $"{record.ReplicaId}@{record.Node} | {(record.Stream == "stderr" ? "[stderr] " : "")}{record.Text}";
}
