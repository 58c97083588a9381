using System.Reflection;
using System.Text.Json;
using Corral.Core;
using Corral.Core.Api;
using Corral.Server.Controllers;
using Corral.Server.Security;
using Corral.Server.State;
using Corral.Store;

namespace Corral.Server.Api;

internal static class StatusEndpoints
{
    public static void Map(IEndpointRouteBuilder app, IEndpointRouteBuilder api)
    {
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        app.MapGet("/readyz", async (IClusterStore store, CancellationToken ct) =>
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(TimeSpan.FromSeconds(2));
                await store.GetRevisionAsync(timeout.Token).ConfigureAwait(false);
                return Results.Text("ready\n");
            }
            catch (Exception e) when (e is StoreException or OperationCanceledException)
            {
                return ApiProblems.Unavailable($"the store does not answer: {e.Message}");
            }
        });

        api.MapGet("/status", async (ClusterState state, HeartbeatTable heartbeats, CancellationToken ct) =>
        {
            var snapshot = await state.ReadAsync(ct).ConfigureAwait(false);
            LeaderInfo? leader = null;
            try
            {
                leader = await state.Store.GetLeaderAsync(Keys.LeaderElection, ct).ConfigureAwait(false);
            }
            catch (StoreUnavailableException)
            {
                // No quorum: nobody can lead; show the rest of the status.
            }
            var storeStatus = await state.Store.GetStatusAsync(ct).ConfigureAwait(false);
            var services = snapshot.Services.Values.Select(s => Views.Service(s.Value, snapshot, heartbeats))
                .OrderBy(s => s.Spec.Name, StringComparer.Ordinal)
                .Select(v => new ServiceSummary(v.Spec.Name, v.Version, v.Desired, v.Running, v.Healthy)).ToList();
            var nodes = snapshot.Nodes.Values.OrderBy(n => n.Value.Name, StringComparer.Ordinal).Select(n => Views.Node(n.Value, snapshot, heartbeats)).ToList();
            var healthKv = await state.Store.GetAsync(Keys.Health, ct).ConfigureAwait(false);
            var health = healthKv is null ? null : JsonSerializer.Deserialize(healthKv.Value.Span, CoreJson.Default.HealthReport);
            var alarms = AlarmCounts.Of((await AlarmEndpoints.ReadAsync(state, ct).ConfigureAwait(false)).Values.Select(v => v.Alarm));
            return Results.Json(new ClusterStatus(ProductVersion, state.Store.Kind, storeStatus.HasQuorum, storeStatus.HasQuorum ? leader?.ValueString : null, snapshot.Revision, nodes, services, health, alarms)
            {
                StoreMembers = [.. storeStatus.Members.Select(m => new StoreMemberView(m.Name, m.Endpoint, m.Healthy, m.IsLeader, m.Error))],
                StoreMajority = storeStatus.Majority,
                StoreFaultTolerance = storeStatus.FaultTolerance,
            }, CoreJson.Default.ClusterStatus);
        }).RequireRole(Role.Viewer);

        api.MapGet("/nodes", async (ClusterState state, HeartbeatTable heartbeats, CancellationToken ct) =>
        {
            var snapshot = await state.ReadAsync(ct).ConfigureAwait(false);
            return Results.Json(snapshot.Nodes.Values.OrderBy(n => n.Value.Name, StringComparer.Ordinal).Select(n => Views.Node(n.Value, snapshot, heartbeats)).ToList(), CoreJson.Default.ListNodeView);
        }).RequireRole(Role.Viewer);

        api.MapGet("/nodes/{name}", async (string name, ClusterState state, HeartbeatTable heartbeats, CancellationToken ct) =>
        {
            var snapshot = await state.ReadAsync(ct).ConfigureAwait(false);
            return snapshot.Nodes.TryGetValue(name, out var node)
                ? Results.Json(Views.Node(node.Value, snapshot, heartbeats), CoreJson.Default.NodeView)
                : NodeEndpoints.NotFound(name);
        }).RequireRole(Role.Viewer);
    }

    private static string ProductVersion { get; } =
        typeof(StatusEndpoints).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
}
