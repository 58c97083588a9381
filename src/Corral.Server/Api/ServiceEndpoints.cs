using Corral.Core;
using Corral.Core.Api;
using Corral.Core.Services;
using Corral.Server.Controllers;
using Corral.Server.Security;
using Corral.Server.State;
using Corral.Store;

namespace Corral.Server.Api;

internal static class ServiceEndpoints
{
    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapGet("/services", async (ClusterState state, HeartbeatTable heartbeats, CancellationToken ct) =>
        {
            var snapshot = await state.ReadAsync(ct).ConfigureAwait(false);
            return Results.Json(snapshot.Services.Values.OrderBy(s => s.Value.Name, StringComparer.Ordinal).Select(s => Views.Service(s.Value, snapshot, heartbeats)).ToList(), CoreJson.Default.ListServiceView);
        }).RequireRole(Role.Viewer);

        api.MapGet("/services/{name}", async (string name, ClusterState state, HeartbeatTable heartbeats, CancellationToken ct) =>
        {
            var snapshot = await state.ReadAsync(ct).ConfigureAwait(false);
            return snapshot.Services.TryGetValue(name, out var service)
                ? Results.Json(Views.Service(service.Value, snapshot, heartbeats), CoreJson.Default.ServiceView)
                : ApiProblems.NotFound($"no service '{name}'");
        }).RequireRole(Role.Viewer).AddEndpointFilter(ServiceNameFilter);

        api.MapGet("/replicas", async (string? service, string? node, ClusterState state, HeartbeatTable heartbeats, CancellationToken ct) =>
        {
            var snapshot = await state.ReadAsync(ct).ConfigureAwait(false);
            var replicas = snapshot.Replicas.Values.Select(r => r.Value)
                .Where(r => (service is null || r.Service == service) && (node is null || r.Node == node))
                .OrderBy(r => r.Service, StringComparer.Ordinal).ThenBy(r => r.CreatedRevision)
                .Select(r => Views.Replica(r, heartbeats)).ToList();
            return Results.Json(replicas, CoreJson.Default.ListReplicaView);
        }).RequireRole(Role.Viewer);

        api.MapPut("/services/{name}/scale", async (string name, HttpRequest request, ClusterState state, HeartbeatTable heartbeats, CancellationToken ct) =>
        {
            var (body, error) = await ApiProblems.ReadJsonAsync(request, CoreJson.Default.ScaleRequest).ConfigureAwait(false);
            if (error is not null)
            {
                return error;
            }
            if (body!.Replicas is < 0 or > Core.Stacks.StackParser.MaxReplicas)
            {
                return ApiProblems.BadRequest($"replicas {body.Replicas} is out of range; allowed 0–{Core.Stacks.StackParser.MaxReplicas}",
                    [new FieldError("replicas", $"allowed 0–{Core.Stacks.StackParser.MaxReplicas}")]);
            }
            var caller = ApiAuth.CallerOf(request.HttpContext);
            return await UpdateAsync(state, heartbeats, name, ct, current =>
            {
                if (current.Mode == ServiceMode.Global)
                {
                    return (null, ApiProblems.BadRequest($"service '{name}' is global (one replica per node) and cannot be scaled", [new FieldError("replicas", "not allowed for a global service")]));
                }
                if (body.Replicas == 1 && current.Replicas != 1 && (current with { Replicas = 1 }).SingletonTimingProblem() is { } overlap)
                {
                    // One replica makes it a singleton, which its timing must allow.
                    return (null, ApiProblems.BadRequest($"service '{name}' cannot be scaled to 1: {overlap}", [new FieldError("replicas", overlap)]));
                }
                return current.Replicas == body.Replicas
                    ? (current, null)
                    : (current with { Replicas = body.Replicas }, null);
            }, (before, after) => state.EventOp("service.scaled", $"service/{name}", $"service '{name}' scaled {before.Replicas} → {after.Replicas}", caller.Actor)).ConfigureAwait(false);
        }).RequireRole(Role.Operator).AddEndpointFilter(ServiceNameFilter).TakesBody<ScaleRequest>();

        api.MapPost("/services/{name}/restart", async (string name, HttpContext http, ClusterState state, HeartbeatTable heartbeats, CancellationToken ct) =>
        {
            var caller = ApiAuth.CallerOf(http);
            return await UpdateAsync(state, heartbeats, name, ct, current => (current with { Restarts = current.Restarts + 1 }, null),
                (_, after) => state.EventOp("service.restarted", $"service/{name}", $"service '{name}' restart requested: replicas are replaced one at a time (version {after.Version})", caller.Actor)).ConfigureAwait(false);
        }).RequireRole(Role.Operator).AddEndpointFilter(ServiceNameFilter);

        api.MapDelete("/services/{name}", async (string name, HttpContext http, ClusterState state, CancellationToken ct) =>
        {
            var caller = ApiAuth.CallerOf(http);
            var current = await state.GetServiceAsync(name, ct).ConfigureAwait(false);
            if (current is null)
            {
                return ApiProblems.NotFound($"no service '{name}'");
            }
            var result = await state.Store.TxnAsync(
                Txn.If(Compare.ModRevision(Keys.Service(name), CompareOp.Equal, current.ModRevision))
                    .Then(new TxnOp.Delete(Keys.Service(name)), state.EventOp("service.removed", $"service/{name}", $"service '{name}' removed; its replicas stop", caller.Actor)),
                ct).ConfigureAwait(false);
            return result.Succeeded ? Results.NoContent() : ApiProblems.Conflict($"service '{name}' changed while it was being removed; try again");
        }).RequireRole(Role.Operator).AddEndpointFilter(ServiceNameFilter);
    }

    /// <summary>Read-modify-write of one service with a compare on its mod revision; no write when nothing changes.</summary>
    private static async Task<IResult> UpdateAsync(
        ClusterState state,
        HeartbeatTable heartbeats,
        string name,
        CancellationToken ct,
        Func<ServiceSpec, (ServiceSpec? Updated, IResult? Error)> change,
        Func<ServiceSpec, ServiceSpec, TxnOp> eventOp)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var current = await state.GetServiceAsync(name, ct).ConfigureAwait(false);
            if (current is null)
            {
                return ApiProblems.NotFound($"no service '{name}'");
            }
            var (updated, error) = change(current.Value);
            if (error is not null)
            {
                return error;
            }
            if (ReferenceEquals(updated, current.Value))
            {
                return await ViewAsync(state, heartbeats, name, ct).ConfigureAwait(false);
            }
            var result = await state.Store.TxnAsync(
                Txn.If(Compare.ModRevision(Keys.Service(name), CompareOp.Equal, current.ModRevision))
                    .Then(ClusterState.PutService(updated!), eventOp(current.Value, updated!)),
                ct).ConfigureAwait(false);
            if (result.Succeeded)
            {
                return await ViewAsync(state, heartbeats, name, ct).ConfigureAwait(false);
            }
        }
        return ApiProblems.Conflict($"service '{name}' kept changing underneath this request; try again");
    }

    private static async Task<IResult> ViewAsync(ClusterState state, HeartbeatTable heartbeats, string name, CancellationToken ct)
    {
        var snapshot = await state.ReadAsync(ct).ConfigureAwait(false);
        return snapshot.Services.TryGetValue(name, out var service)
            ? Results.Json(Views.Service(service.Value, snapshot, heartbeats), CoreJson.Default.ServiceView)
            : ApiProblems.NotFound($"no service '{name}'");
    }

    /// <summary>
    /// A route's <c>{name}</c> that can be no service's name (see docs/api.md, "Names") is a 400 naming the parameter,
    /// checked after the caller's role and before any body is read or the store is asked.
    /// </summary>
    private static ValueTask<object?> ServiceNameFilter(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var name = invocation.HttpContext.GetRouteValue("name") as string;
        if (Core.Stacks.StackParser.IsValidName(name))
        {
            return next(invocation);
        }
        var shown = name is null ? "" : name.Length > 64 ? name[..64] + $"… ({name.Length} characters)" : name;
        return ValueTask.FromResult<object?>(ApiProblems.BadRequest($"'{shown}' is not a service name",
            [new FieldError("name", "a service name is lower-case letters, digits and '-', starting with a letter, at most 63 characters")]));
    }
}
