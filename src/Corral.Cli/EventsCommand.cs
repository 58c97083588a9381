using System.CommandLine;
using Corral.Client;
using Corral.Core;
using Corral.Core.Api;

namespace Corral.Cli;

/// <summary>
/// <c>corral events [-f] [--index N] [--tail N] [--since D|TIME] [--type KIND] [--service S] [--node N]</c>: the
/// cluster's event log, oldest first, filtered; with <c>-f</c> it keeps following new matching events (blocking
/// queries) until Ctrl-C. The server checks the values (a bad one is a 400 naming it, exit code 2).
/// </summary>
internal static class EventsCommand
{
    private const int PageSize = 1000;

    /// <summary>How long one blocking query waits on the server before it is asked again.</summary>
    private static readonly TimeSpan FollowWait = TimeSpan.FromSeconds(30);

    public static Command Create()
    {
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new (matching) events as they happen, until Ctrl-C." };
        var index = new Option<long>("--index") { Description = "Only events after this index (a store revision; each event shows its own).", DefaultValueFactory = _ => 0 };
        var tail = new Option<int?>("--tail") { Description = "Only the last N matching events (1 to 10000)." };
        var since = new Option<string?>("--since") { Description = "Only events since then: a duration back from now (10m, 2h, 7d) or an RFC 3339 time (2026-12-07T10:00:00Z)." };
        var type = new Option<string?>("--type") { Description = "Only these event kinds, comma-separated; a kind's first part matches all its kinds (replica = replica.placed, replica.failed, ...)." };
        var service = new Option<string?>("--service") { Description = "Only events about this service and its replicas." };
        var node = new Option<string?>("--node") { Description = "Only events about this node and the replicas on it." };
        var command = new Command("events", "Show the cluster's events: deploys, scaling, failures, node changes, who did what.") { follow, index, tail, since, type, service, node };
        var options = ClientOptions.AddTo(command);
        ClientAction.Set(command, options, async (context, cancellationToken) =>
        {
            var output = context.Output;
            var after = Math.Max(0, context.Parse.GetValue(index));
            var request = new EventRequest
            {
                Index = after,
                Tail = context.Parse.GetValue(tail),
                Since = context.Parse.GetValue(since),
                Type = context.Parse.GetValue(type),
                Service = context.Parse.GetValue(service),
                Node = context.Parse.GetValue(node),
            };
            if (context.Parse.GetValue(follow))
            {
                try
                {
                    await foreach (var item in context.Client.FollowEventsAsync(request, FollowWait, cancellationToken).ConfigureAwait(false))
                    {
                        if (output.Json)
                        {
                            output.WriteJsonLine(item, CoreJson.Default.ClusterEvent);
                        }
                        else
                        {
                            output.Line(Line(item));
                        }
                    }
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    // Ctrl-C is how following ends.
                }
                return ExitCodes.Ok;
            }

            var events = new List<ClusterEvent>();
            var next = request with { Limit = PageSize };
            for (var pages = 0; pages < 10_000; pages++)
            {
                var page = await context.Client.GetEventsAsync(next, null, cancellationToken).ConfigureAwait(false);
                events.AddRange(page.Events);
                next = next with { Index = Math.Max(next.Index, page.Index), Tail = null };
                if (page.Events.Count < PageSize)
                {
                    break;
                }
            }
            if (output.Json)
            {
                output.WriteJson(new EventPage(next.Index, events), CoreJson.Default.EventPage);
                return ExitCodes.Ok;
            }
            if (events.Count == 0)
            {
                output.Line("no events");
                return ExitCodes.Ok;
            }
            var table = CliOutput.Table("INDEX", "TIME", "KIND", "SUBJECT", "ACTOR", "MESSAGE");
            foreach (var item in events)
            {
                CliOutput.Row(table, item.Revision.ToString(System.Globalization.CultureInfo.InvariantCulture), Show.Time(item.Time), item.Kind, item.Subject, item.Actor, item.Message);
            }
            output.Write(table);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>One event as one line, for following: index, time, kind, subject, actor, message.</summary>
    internal static string Line(ClusterEvent item) =>
        $"{item.Revision}  {Show.Time(item.Time)}  {item.Kind}  {item.Subject}  {item.Actor}  {item.Message}";
}
