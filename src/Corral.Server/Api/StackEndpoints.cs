using Corral.Core;
using Corral.Core.Api;
using Corral.Core.Stacks;
using Corral.Server.Security;
using Corral.Server.State;
using Corral.Store;

namespace Corral.Server.Api;

internal static class StackEndpoints
{
    /// <summary>Etcd refuses transactions of more than 128 operations; a stack larger than this is refused with the reason.</summary>
    private const int MaxServicesPerDeploy = 60;

    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapPost("/stacks/diff", (HttpRequest request, ClusterState state, CancellationToken ct) => DeployAsync(request, state, apply: false, ct))
            .RequireRole(Role.Viewer).TakesBody<DeployRequest>();
        api.MapPost("/stacks/deploy", (HttpRequest request, ClusterState state, CancellationToken ct) => DeployAsync(request, state, apply: true, ct))
            .RequireRole(Role.Operator).TakesBody<DeployRequest>();
    }

    private static async Task<IResult> DeployAsync(HttpRequest request, ClusterState state, bool apply, CancellationToken ct)
    {
        var (body, error) = await ApiProblems.ReadJsonAsync(request, CoreJson.Default.DeployRequest).ConfigureAwait(false);
        if (error is not null)
        {
            return error;
        }
        var file = string.IsNullOrWhiteSpace(body!.File) ? "stack.yaml" : body.File;
        var parsed = StackParser.Parse(body.Yaml ?? "", file);
        if (!parsed.Succeeded)
        {
            var errors = parsed.Errors.Select(e => new FieldError(e.Field, e.Message, e.File, e.Line, e.Column)).ToList();
            return ApiProblems.BadRequest($"{file}: {errors.Count} error{(errors.Count == 1 ? "" : "s")} in the stack file", errors);
        }
        var stack = parsed.Stack!;
        if (stack.Services.Count > MaxServicesPerDeploy)
        {
            return ApiProblems.BadRequest($"a stack may hold at most {MaxServicesPerDeploy} services (one atomic store transaction); this one has {stack.Services.Count}");
        }

        for (var attempt = 0; attempt < 5; attempt++)
        {
            var snapshot = await state.ReadAsync(ct).ConfigureAwait(false);
            var diff = StackDiff.Compute(stack, snapshot.Services.Values.Select(v => v.Value).ToList(), body.Prune);
            if (diff.Conflicts.Count > 0)
            {
                return ApiProblems.Conflict(string.Join("; ", diff.Conflicts),
                    [.. diff.Conflicts.Select(c => new FieldError("services", c, file))]);
            }
            if (!apply || !diff.Changed)
            {
                return Results.Json(new DeployResult(stack.Name, diff.Changes, diff.Changed, snapshot.Revision), CoreJson.Default.DeployResult);
            }

            var caller = ApiAuth.CallerOf(request.HttpContext);
            var compares = new List<Compare>();
            var ops = new List<TxnOp>();
            foreach (var change in diff.Changes)
            {
                snapshot.Services.TryGetValue(change.Service, out var current);
                compares.Add(current is null
                    ? Compare.Missing(Keys.Service(change.Service))
                    : Compare.ModRevision(Keys.Service(change.Service), CompareOp.Equal, current.ModRevision));
                switch (change.Kind)
                {
                    case ServiceChangeKind.Create:
                    case ServiceChangeKind.Update:
                    case ServiceChangeKind.Scale:
                        var spec = stack.Services.First(s => s.Name == change.Service);
                        ops.Add(ClusterState.PutService(spec with { Restarts = current?.Value.Restarts ?? 0 }));
                        ops.Add(state.EventOp($"service.{Verb(change.Kind)}",
                            $"service/{change.Service}", $"service '{change.Service}' {Verb(change.Kind)} by stack '{stack.Name}': {change.Detail}", caller.Actor));
                        break;
                    case ServiceChangeKind.Remove:
                        ops.Add(new TxnOp.Delete(Keys.Service(change.Service)));
                        ops.Add(state.EventOp("service.removed", $"service/{change.Service}", $"service '{change.Service}' removed from stack '{stack.Name}' (--prune)", caller.Actor));
                        break;
                }
            }
            ops.Add(state.EventOp("stack.deployed", $"stack/{stack.Name}",
                $"stack '{stack.Name}' deployed from {file}: " + string.Join(", ", diff.Changes.Where(c => c.Kind != ServiceChangeKind.Unchanged).Select(c => $"{c.Service} {Verb(c.Kind)}")), caller.Actor));
            var result = await state.Store.TxnAsync(new Txn(compares, ops, []), ct).ConfigureAwait(false);
            if (result.Succeeded)
            {
                return Results.Json(new DeployResult(stack.Name, diff.Changes, true, result.Revision), CoreJson.Default.DeployResult);
            }
        }
        return ApiProblems.Conflict("the cluster's services kept changing during the deploy; try again");
    }

    private static string Verb(ServiceChangeKind kind) => kind switch
    {
        ServiceChangeKind.Create => "created",
        ServiceChangeKind.Update => "updated",
        ServiceChangeKind.Scale => "scaled",
        ServiceChangeKind.Remove => "removed",
        ServiceChangeKind.KeptNotInFile => "kept",
        _ => "unchanged",
    };
}
