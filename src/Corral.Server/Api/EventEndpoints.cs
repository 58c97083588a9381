using Corral.Core;
using Corral.Server.Security;
using Corral.Server.State;

namespace Corral.Server.Api;

internal static class EventEndpoints
{
    private static readonly TimeSpan MaxWait = TimeSpan.FromMinutes(5);

    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapGet("/events", async (long? index, string? wait, int? limit, ClusterState state, TimeProvider time, Microsoft.Extensions.Hosting.IHostApplicationLifetime lifetime, CancellationToken ct) =>
        {
            var waitFor = TimeSpan.Zero;
            if (wait is not null && (!Durations.TryParse(wait, out waitFor, out var error) || waitFor > MaxWait))
            {
                return ApiProblems.BadRequest(error.Length > 0 ? error : $"wait {wait} is above the maximum of 5m",
                    [new Core.Api.FieldError("wait", error.Length > 0 ? error : "at most 5m")]);
            }
            var after = Math.Max(0, index ?? 0);
            var max = Math.Clamp(limit ?? 1000, 1, 10_000);
            var page = await state.EventsAfterAsync(after, max, ct).ConfigureAwait(false);
            if (page.Events.Count > 0 || waitFor == TimeSpan.Zero)
            {
                return Results.Json(page, CoreJson.Default.EventPage);
            }

            // Blocking query: wait for the first event write after what was just read, the deadline, or the server stopping
            // (a stopping server answers what it has rather than hold its shutdown for the rest of the wait).
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct, lifetime.ApplicationStopping);
            deadline.CancelAfter(waitFor);
            try
            {
                await foreach (var _ in state.Store.WatchAsync(Keys.Events, page.Index + 1, deadline.Token).ConfigureAwait(false))
                {
                    break;
                }
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
            }
            page = await state.EventsAfterAsync(after, max, ct).ConfigureAwait(false);
            return Results.Json(page, CoreJson.Default.EventPage);
        }).RequireRole(Role.Viewer);
    }
}
