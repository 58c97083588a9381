using System.CommandLine;
using Corral.Core;
using Corral.Core.Api;

namespace Corral.Cli;

/// <summary>
/// <c>corral events [-f] [--index N]</c>: the cluster's event log, oldest first; with <c>-f</c> it keeps following new
/// events (blocking queries) until Ctrl-C.
/// </summary>
internal static class EventsCommand
{
    private const int PageSize = 1000;

    /// <summary>How long one blocking query waits on the server before it is asked again.</summary>
    private static readonly TimeSpan FollowWait = TimeSpan.FromSeconds(30);

    public static Command Create()
    {
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new events as they happen, until Ctrl-C." };
        var index = new Option<long>("--index") { Description = "Only events after this index (a store revision; each event shows its own).", DefaultValueFactory = _ => 0 };
        var command = new Command("events", "Show the cluster's events: deploys, scaling, failures, node changes, who did what.") { follow, index };
        var options = ClientOptions.AddTo(command);
        ClientAction.Set(command, options, async (context, cancellationToken) =>
        {
            var output = context.Output;
            var after = Math.Max(0, context.Parse.GetValue(index));
            if (context.Parse.GetValue(follow))
            {
                try
                {
                    await foreach (var item in context.Client.FollowEventsAsync(after, FollowWait, cancellationToken).ConfigureAwait(false))
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
            var next = after;
            for (var pages = 0; pages < 10_000; pages++)
            {
                var page = await context.Client.GetEventsAsync(next, null, PageSize, cancellationToken).ConfigureAwait(false);
                events.AddRange(page.Events);
                next = Math.Max(next, page.Index);
                if (page.Events.Count < PageSize)
                {
                    break;
                }
            }
            if (output.Json)
            {
                output.WriteJson(new EventPage(next, events), CoreJson.Default.EventPage);
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
