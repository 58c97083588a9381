using System.Globalization;
using System.Text.Json;
using Corral.Core;
using Corral.Core.Api;
using Corral.Server.Logs;
using Corral.Server.Security;
using Corral.Server.State;
using Microsoft.Extensions.Hosting;

namespace Corral.Server.Api;

/// <summary><c>GET /v1/logs</c>: a service's replicas' lines as NDJSON, optionally followed (docs/logs.md).</summary>
internal static class LogEndpoints
{
    /// <summary>Most lines <c>tail</c> may ask for.</summary>
    public const int MaxTail = 100_000;

    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapGet("/logs", async (HttpContext context, ClusterState state, TimeProvider time, IHostApplicationLifetime lifetime) =>
        {
            var ct = context.RequestAborted;
            var (query, follow, error) = Parse(context.Request.Query, time.GetUtcNow());
            if (error is not null)
            {
                return error;
            }
            var logs = new LogStore(state.Store);
            if (await state.GetServiceAsync(query!.Service, ct).ConfigureAwait(false) is null && !await logs.HasLogsAsync(query.Service, ct).ConfigureAwait(false))
            {
                return ApiProblems.NotFound($"there is no service {query.Service} and no kept log of one");
            }
            var cursor = new LogCursor();
            var (records, revision) = await logs.ReadAsync(query, cursor, ct).ConfigureAwait(false);
            var response = context.Response;
            response.ContentType = "application/x-ndjson; charset=utf-8";
            response.Headers.CacheControl = "no-store";
            response.Headers["X-Corral-Index"] = revision.ToString(CultureInfo.InvariantCulture);
            var body = response.Body;
            foreach (var record in records)
            {
                await WriteAsync(body, record, ct).ConfigureAwait(false);
            }
            await body.FlushAsync(ct).ConfigureAwait(false);
            if (follow)
            {
                // Following ends when the client goes away or this server shuts down (the client then asks another).
                using var until = CancellationTokenSource.CreateLinkedTokenSource(ct, lifetime.ApplicationStopping);
                try
                {
                    await foreach (var record in logs.FollowAsync(query, cursor, revision, until.Token).ConfigureAwait(false))
                    {
                        await WriteAsync(body, record, until.Token).ConfigureAwait(false);
                        await body.FlushAsync(until.Token).ConfigureAwait(false);
                    }
                }
                catch (OperationCanceledException) when (until.IsCancellationRequested)
                {
                }
            }
            return Results.Empty;
        }).RequireRole(Role.Viewer);
    }

    private static async Task WriteAsync(Stream body, LogRecord record, CancellationToken cancellationToken)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(record, CoreJson.Default.LogRecord);
        await body.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
        await body.WriteAsync("\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads the query string; on any problem a 400 listing every bad field.</summary>
    internal static (LogQuery? Query, bool Follow, IResult? Error) Parse(IQueryCollection q, DateTimeOffset now)
    {
        var errors = new List<FieldError>();
        var service = q["service"].ToString();
        if (!LogStore.IsName(service))
        {
            errors.Add(new FieldError("service", service.Length == 0 ? "required: the service whose logs to show" : $"'{service}' is not a service name"));
        }
        string? node = q.TryGetValue("node", out var n) ? n.ToString() : null;
        if (node is not null && !LogStore.IsName(node))
        {
            errors.Add(new FieldError("node", $"'{node}' is not a node name"));
        }
        string? replica = q.TryGetValue("replica", out var r) ? r.ToString() : null;
        if (replica is not null && !LogStore.IsName(replica))
        {
            errors.Add(new FieldError("replica", $"'{replica}' is not a replica id"));
        }
        DateTimeOffset? since = null;
        if (q.TryGetValue("since", out var s))
        {
            var text = s.ToString();
            if (Durations.TryParse(text, out var ago, out _) && ago >= TimeSpan.Zero)
            {
                since = now - ago;
            }
            else if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) && text.Contains('T', StringComparison.Ordinal))
            {
                since = at;
            }
            else
            {
                errors.Add(new FieldError("since", $"'{text}' is neither a duration (10m, 2h, 1d) nor an RFC 3339 time (2026-11-22T10:00:00Z)"));
            }
        }
        int? tail = null;
        if (q.TryGetValue("tail", out var t))
        {
            if (int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count <= MaxTail)
            {
                tail = count;
            }
            else
            {
                errors.Add(new FieldError("tail", $"'{t}' must be a whole number from 0 to {MaxTail}"));
            }
        }
        var follow = false;
        if (q.TryGetValue("follow", out var f) && !bool.TryParse(f, out follow))
        {
            errors.Add(new FieldError("follow", $"'{f}' must be true or false"));
        }
        if (errors.Count > 0)
        {
            return (null, false, ApiProblems.BadRequest("invalid logs query: " + string.Join("; ", errors.Select(e => $"{e.Field}: {e.Message}")), errors));
        }
        return (new LogQuery(service, node, replica, since, tail), follow, null);
    }
}
