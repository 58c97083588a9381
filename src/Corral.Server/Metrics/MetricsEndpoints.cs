using System.Diagnostics;
using System.Text;
using Corral.Server.Api;
using Corral.Server.Security;
using Microsoft.AspNetCore.Http;

namespace Corral.Server.Metrics;

/// <summary><c>GET /metrics</c> and the middleware that counts and times API requests.</summary>
internal static class MetricsEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/metrics", async (CorralMetrics metrics, PrometheusExporter exporter, CancellationToken ct) =>
        {
            await metrics.RefreshAsync(ct).ConfigureAwait(false);
            var text = new StringBuilder(64 * 1024);
            exporter.Render(text);
            return Results.Text(text.ToString(), PrometheusExporter.ContentType, Encoding.UTF8);
        }).RequireRole(Role.Metrics);
    }

    /// <summary>Counts and times every request by route template (<c>unmatched</c> when none), method and status code.</summary>
    public static async Task CountRequestAsync(HttpContext context, RequestDelegate next)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "unmatched";
            var tags = new TagList
            {
                { "route", route.Length > 0 && route[0] != '/' ? "/" + route : route },
                { "method", context.Request.Method },
                { "status", context.Response.StatusCode },
            };
            Instrumentation.ApiRequests.Add(1, tags);
            Instrumentation.ApiRequestDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
        }
    }
}
