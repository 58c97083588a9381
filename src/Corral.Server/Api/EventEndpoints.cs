using System.Globalization;
using Corral.Core;
using Corral.Core.Api;
using Corral.Server.Security;
using Corral.Server.State;

namespace Corral.Server.Api;

internal static class EventEndpoints
{
    public const int DefaultLimit = 1000;
    public const int MaxLimit = 10_000;

    private static readonly TimeSpan MaxWait = TimeSpan.FromMinutes(5);

    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapGet("/events", async (HttpRequest request, ClusterState state, TimeProvider time, Microsoft.Extensions.Hosting.IHostApplicationLifetime lifetime, CancellationToken ct) =>
        {
            var (query, waitFor, problem) = Parse(request.Query, time.GetUtcNow());
            if (problem is not null)
            {
                return problem;
            }
            var page = await state.ReadEventsAsync(query!, ct).ConfigureAwait(false);
            if (page.Events.Count > 0 || waitFor == TimeSpan.Zero)
            {
                return Results.Json(page, CoreJson.Default.EventPage);
            }

            // Blocking query: wait for an event written after what was read that the query wants, the deadline, or the
            // server stopping (a stopping server answers what it has rather than hold its shutdown for the rest of the
            // wait). Events the filter leaves out only move the index on: the watch has no gaps, so none was missed.
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct, lifetime.ApplicationStopping);
            deadline.CancelAfter(waitFor);
            var seen = page.Index;
            try
            {
                await foreach (var batch in state.Store.WatchAsync(Keys.Events, page.Index + 1, deadline.Token).ConfigureAwait(false))
                {
                    if (batch.Events.Any(e => e.Type == Store.WatchEventType.Put && Wanted(query!, ClusterState.DecodeEvent(e.Kv))))
                    {
                        page = await state.ReadEventsAsync(query! with { AfterRevision = seen, Tail = null }, ct).ConfigureAwait(false);
                        break;
                    }
                    seen = batch.Revision;
                }
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
            }
            if (page.Events.Count == 0)
            {
                page = page with { Index = Math.Max(page.Index, seen) };
            }
            return Results.Json(page, CoreJson.Default.EventPage);
        }).RequireRole(Role.Viewer);
    }

    private static bool Wanted(EventQuery query, ClusterEvent item) =>
        query.Filter.Matches(item) && (query.Since is null || item.Time >= query.Since);

    /// <summary>The query a request asks for and how long it may wait, or a problem naming every bad parameter.</summary>
    internal static (EventQuery? Query, TimeSpan Wait, IResult? Problem) Parse(IQueryCollection q, DateTimeOffset now)
    {
        var errors = new List<FieldError>();
        long index = 0;
        if (q["index"].ToString() is { Length: > 0 } indexText && (!long.TryParse(indexText, NumberStyles.None, CultureInfo.InvariantCulture, out index)))
        {
            errors.Add(new FieldError("index", $"'{indexText}' is not an index: use 0 or a store revision (a whole number, not negative)"));
        }
        var waitFor = TimeSpan.Zero;
        if (q["wait"].ToString() is { Length: > 0 } waitText)
        {
            if (!Durations.TryParse(waitText, out waitFor, out var error))
            {
                errors.Add(new FieldError("wait", error));
            }
            else if (waitFor > MaxWait)
            {
                errors.Add(new FieldError("wait", $"wait {waitText} is above the maximum of 5m"));
            }
        }
        var limit = DefaultLimit;
        if (q["limit"].ToString() is { Length: > 0 } limitText && (!int.TryParse(limitText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > MaxLimit))
        {
            errors.Add(new FieldError("limit", $"'{limitText}' is not a limit: use a whole number from 1 to {MaxLimit}"));
        }
        int? tail = null;
        if (q["tail"].ToString() is { Length: > 0 } tailText)
        {
            if (int.TryParse(tailText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) && n >= 1 && n <= MaxLimit)
            {
                tail = n;
            }
            else
            {
                errors.Add(new FieldError("tail", $"'{tailText}' is not a tail: use a whole number from 1 to {MaxLimit}"));
            }
        }
        DateTimeOffset? since = null;
        if (q["since"].ToString() is { Length: > 0 } sinceText)
        {
            if (EventFilter.TryParseSince(sinceText, now, out var at, out var error))
            {
                since = at;
            }
            else
            {
                errors.Add(new FieldError("since", error));
            }
        }
        IReadOnlyList<string> types = [];
        if (q.ContainsKey("type") && !EventFilter.TryParseTypes(q["type"].ToString(), out types, out var typeError))
        {
            errors.Add(new FieldError("type", typeError));
        }
        var service = Name(q, "service", errors);
        var node = Name(q, "node", errors);
        if (errors.Count > 0)
        {
            var detail = errors.Count == 1 ? $"{errors[0].Field}: {errors[0].Message}" : "bad query parameters: " + string.Join("; ", errors.Select(e => $"{e.Field}: {e.Message}"));
            return (null, TimeSpan.Zero, ApiProblems.BadRequest(detail, errors));
        }
        var query = new EventQuery(index, limit) { Since = since, Tail = tail, Filter = new EventFilter(types, service, node) };
        return (query, waitFor, null);
    }

    private static string? Name(IQueryCollection q, string field, List<FieldError> errors)
    {
        if (!q.ContainsKey(field))
        {
            return null;
        }
        var text = q[field].ToString();
        if (text.Length == 0 || text.Length > 253 || text.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '/' or ','))
        {
            errors.Add(new FieldError(field, $"'{text}' is not a {field} name"));
            return null;
        }
        return text;
    }
}
