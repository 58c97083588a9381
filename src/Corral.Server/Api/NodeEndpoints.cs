using Corral.Core;
using Corral.Core.Api;
using Corral.Core.Cluster;
using Corral.Server.Controllers;
using Corral.Server.Security;
using Corral.Server.State;
using Corral.Store;

namespace Corral.Server.Api;

/// <summary>
/// Node operations: drain, undrain, labels, removal. Each is idempotent (a request that changes nothing writes nothing
/// and records no event), compares the node's mod revision, and records an event naming the caller.
/// </summary>
internal static class NodeEndpoints
{
    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapPost("/nodes/{name}/drain", async (string name, HttpContext http, ClusterState state, HeartbeatTable heartbeats, CancellationToken ct) =>
        {
            var caller = ApiAuth.CallerOf(http);
            // An ineligible node is already draining or drained: draining it again changes nothing.
            return await UpdateAsync(state, heartbeats, name, ct,
                current => current.Eligible ? current with { Eligible = false, Draining = true } : current,
                _ => state.EventOp("node.draining", $"node/{name}", $"node '{name}' draining: no new replicas; its replicas move elsewhere one at a time", caller.Actor)).ConfigureAwait(false);
        }).RequireRole(Role.Operator);

        api.MapPost("/nodes/{name}/undrain", async (string name, HttpContext http, ClusterState state, HeartbeatTable heartbeats, CancellationToken ct) =>
        {
            var caller = ApiAuth.CallerOf(http);
            return await UpdateAsync(state, heartbeats, name, ct,
                current => current.Eligible && !current.Draining ? current : current with { Eligible = true, Draining = false },
                before => state.EventOp("node.undrained", $"node/{name}", before.Draining ? $"node '{name}' drain cancelled; eligible for new replicas" : $"node '{name}' eligible for new replicas again", caller.Actor)).ConfigureAwait(false);
        }).RequireRole(Role.Operator);

        api.MapPut("/nodes/{name}/labels", async (string name, HttpRequest request, ClusterState state, HeartbeatTable heartbeats, CancellationToken ct) =>
        {
            var (body, error) = await ApiProblems.ReadJsonAsync(request, CoreJson.Default.NodeLabelsRequest).ConfigureAwait(false);
            if (error is not null)
            {
                return error;
            }
            if (body!.Labels is null)
            {
                return ApiProblems.BadRequest("the request needs a labels map", [new FieldError("labels", "required (an empty map removes every label)")]);
            }
            var errors = Names.CheckLabels(body.Labels, "labels");
            if (errors.Count > 0)
            {
                return ApiProblems.BadRequest("invalid labels", errors);
            }
            var labels = new SortedDictionary<string, string>(body.Labels.ToDictionary(l => l.Key, l => l.Value, StringComparer.Ordinal), StringComparer.Ordinal);
            var caller = ApiAuth.CallerOf(request.HttpContext);
            // Only the operator labels change; the agent's own labels stay (and lose to an operator label of the same name).
            return await UpdateAsync(state, heartbeats, name, ct,
                current => current.OperatorLabels.Count == labels.Count && labels.All(l => current.OperatorLabels.TryGetValue(l.Key, out var v) && v == l.Value)
                    ? current
                    : current.WithLabels(@operator: labels),
                _ => state.EventOp("node.labeled", $"node/{name}", labels.Count == 0 ? $"node '{name}' operator labels cleared" : $"node '{name}' operator labels set to {string.Join(", ", labels.Select(l => l.Key + "=" + l.Value))}", caller.Actor)).ConfigureAwait(false);
        }).RequireRole(Role.Operator);

        api.MapDelete("/nodes/{name}", async (string name, HttpContext http, ClusterState state, NodeCertificates certificates, CancellationToken ct) =>
        {
            var caller = ApiAuth.CallerOf(http);
            var current = await state.GetNodeAsync(name, ct).ConfigureAwait(false);
            // The node's certificates are revoked in the same transaction: it cannot come back without a new token.
            var (compares, revocations, revoked) = await certificates.RevokeOpsAsync(name, caller.Actor, ct).ConfigureAwait(false);
            if (current is null)
            {
                if (revoked == 0)
                {
                    return NotFound(name);
                }
                // Joined (a certificate was issued) but never registered: its identity is revoked all the same, so the
                // certificate cannot register later.
                var unregistered = await state.Store.TxnAsync(
                    Txn.If([Compare.Missing(Keys.Node(name)), .. compares])
                        .Then([.. revocations, state.EventOp("node.removed", $"node/{name}", $"node '{name}' removed before it registered; {revoked} certificate(s) revoked: it must join again with a new token", caller.Actor)]),
                    ct).ConfigureAwait(false);
                return unregistered.Succeeded ? Results.NoContent() : ApiProblems.Conflict($"node '{name}' changed while it was being removed; try again");
            }
            var message = $"node '{name}' removed; its replicas are lost and replaced elsewhere; {revoked} certificate(s) revoked: it must join again with a new token";
            var result = await state.Store.TxnAsync(
                Txn.If([Compare.ModRevision(Keys.Node(name), CompareOp.Equal, current.ModRevision), .. compares])
                    .Then([new TxnOp.Delete(Keys.Node(name)), .. revocations, state.EventOp("node.removed", $"node/{name}", message, caller.Actor)]),
                ct).ConfigureAwait(false);
            return result.Succeeded ? Results.NoContent() : ApiProblems.Conflict($"node '{name}' changed while it was being removed; try again");
        }).RequireRole(Role.Admin);
    }

    /// <summary>
    /// The answer for a node name no node has: 404, or 400 naming <c>name</c> when no node can have it (it breaks the
    /// node name rule). Asked only after the lookup, so that a node named under an earlier rule stays addressable.
    /// </summary>
    internal static IResult NotFound(string name) =>
        Names.CheckNode(name) is { } broken
            ? ApiProblems.BadRequest($"no node can be named {Names.Quote(name)}", [new FieldError("name", broken)])
            : ApiProblems.NotFound($"no node '{name}'");

    /// <summary>Read-modify-write of one node with a compare on its mod revision; no write when nothing changes.</summary>
    private static async Task<IResult> UpdateAsync(
        ClusterState state,
        HeartbeatTable heartbeats,
        string name,
        CancellationToken ct,
        Func<Node, Node> change,
        Func<Node, TxnOp> eventOp)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var current = await state.GetNodeAsync(name, ct).ConfigureAwait(false);
            if (current is null)
            {
                return NotFound(name);
            }
            var updated = change(current.Value);
            if (ReferenceEquals(updated, current.Value))
            {
                return await ViewAsync(state, heartbeats, name, ct).ConfigureAwait(false);
            }
            var result = await state.Store.TxnAsync(
                Txn.If(Compare.ModRevision(Keys.Node(name), CompareOp.Equal, current.ModRevision))
                    .Then(ClusterState.PutNode(updated), eventOp(current.Value)),
                ct).ConfigureAwait(false);
            if (result.Succeeded)
            {
                return await ViewAsync(state, heartbeats, name, ct).ConfigureAwait(false);
            }
        }
        return ApiProblems.Conflict($"node '{name}' kept changing underneath this request; try again");
    }

    private static async Task<IResult> ViewAsync(ClusterState state, HeartbeatTable heartbeats, string name, CancellationToken ct)
    {
        var snapshot = await state.ReadAsync(ct).ConfigureAwait(false);
        return snapshot.Nodes.TryGetValue(name, out var node)
            ? Results.Json(Views.Node(node.Value, snapshot, heartbeats), CoreJson.Default.NodeView)
            : NotFound(name);
    }
}
