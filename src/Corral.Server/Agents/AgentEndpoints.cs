using System.Text.Json;
using Corral.Core;
using Corral.Core.Api;
using Corral.Core.Cluster;
using Corral.Server.Controllers;
using Corral.Server.Leadership;
using Corral.Server.State;
using Corral.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Corral.Server.Agents;

/// <summary>The agent protocol under <c>/v1/agent/</c> (see docs/api.md), JSON with <see cref="CoreJson"/>.</summary>
public static class AgentEndpoints
{
    /// <summary>
    /// Maps <c>POST /v1/agent/register</c>, <c>POST /v1/agent/heartbeat</c> and <c>GET /v1/agent/assignments</c>.
    /// Needs the services of <see cref="ControlPlaneServiceCollectionExtensions.AddCorralControlPlane"/>.
    /// </summary>
    public static IEndpointRouteBuilder MapAgentEndpoints(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var group = endpoints.MapGroup("/v1/agent");
        // Identity checks need the revoked certificates loaded (moments after the server starts).
        group.AddEndpointFilter(async (invocation, next) =>
        {
            var http = invocation.HttpContext;
            await http.RequestServices.GetRequiredService<Security.RevokedCertificates>().WaitReadyAsync(http.RequestAborted).ConfigureAwait(false);
            // Authenticate first, always: a caller without a valid node certificate learns nothing about bodies or names.
            if (!http.RequestServices.GetRequiredService<AgentIdentity>().Authenticate(http, out var title, out var error))
            {
                return Problem(StatusCodes.Status401Unauthorized, title, error);
            }
            return await next(invocation).ConfigureAwait(false);
        });
        group.MapPost("/register", (Delegate)RegisterAsync);
        group.MapPost("/heartbeat", (Delegate)HeartbeatAsync);
        group.MapGet("/assignments", (Delegate)AssignmentsAsync);
        group.MapPost("/logs", (Delegate)LogsAsync);
        return endpoints;
    }

    private static async Task<IResult> RegisterAsync(HttpContext context)
    {
        var ct = context.RequestAborted;
        var services = context.RequestServices;
        var (registration, bad) = await ReadAsync(context, CoreJson.Default.AgentRegistration).ConfigureAwait(false);
        if (registration is null)
        {
            return bad!;
        }
        var errors = new List<FieldError>();
        if (registration.Addresses is null || registration.Addresses.Any(string.IsNullOrWhiteSpace))
        {
            errors.Add(new FieldError("addresses", "a list of non-empty addresses is required"));
        }
        if (!double.IsFinite(registration.CpuCores) || registration.CpuCores < 0)
        {
            errors.Add(new FieldError("cpu_cores", $"must be a number of cores, 0 or more; got {registration.CpuCores}"));
        }
        if (registration.MemoryBytes < 0)
        {
            errors.Add(new FieldError("memory_bytes", $"must be 0 or more; got {registration.MemoryBytes}"));
        }
        if (registration.PortCapacity is < 1 or > 65_535)
        {
            errors.Add(new FieldError("port_capacity", $"must be from 1 to 65535; got {registration.PortCapacity}"));
        }
        if (registration.Labels is { } labels)
        {
            errors.AddRange(Names.CheckLabels(labels, "labels"));
        }
        var name = Identify(context, registration.Node, out var denied);
        if (name is null)
        {
            return denied!;
        }
        if (errors.Count > 0)
        {
            return BadRequest("invalid registration", errors);
        }

        var state = services.GetRequiredService<ClusterState>();
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        var sortedLabels = new SortedDictionary<string, string>(
            registration.Labels?.ToDictionary(l => l.Key, l => l.Value, StringComparer.Ordinal) ?? [], StringComparer.Ordinal);
        Node? result = null;
        for (var attempt = 0; attempt < 5 && result is null; attempt++)
        {
            var existing = await state.GetNodeAsync(name, ct).ConfigureAwait(false);
            var actor = "node:" + name;
            if (existing is null)
            {
                var node = new Node
                {
                    Name = name,
                    Addresses = [.. registration.Addresses!],
                    CpuCores = registration.CpuCores,
                    MemoryBytes = registration.MemoryBytes,
                    PortCapacity = registration.PortCapacity ?? Node.DefaultPortCapacity,
                    Status = NodeStatus.Ready,
                    StatusSince = now,
                }.WithLabels(agent: sortedLabels);
                var txn = Txn.If(Compare.Missing(Keys.Node(name)))
                    .Then(ClusterState.PutNode(node), state.EventOp("node.registered", "node/" + name, $"registered with {node.CpuCores} CPU and {ByteSizes.Format(node.MemoryBytes)} memory", actor));
                if ((await state.Store.TxnAsync(txn, ct).ConfigureAwait(false)).Succeeded)
                {
                    result = node;
                    AgentsLog.NodeRegistered(services.GetRequiredService<ILogger<AssignmentTracker>>(), name);
                }
                continue;
            }
            // The agent's labels are replaced; operator labels ('corral node label') are kept and win on conflict.
            var updated = (existing.Value with
            {
                Addresses = [.. registration.Addresses!],
                CpuCores = registration.CpuCores,
                MemoryBytes = registration.MemoryBytes,
                PortCapacity = registration.PortCapacity ?? existing.Value.PortCapacity,
            }).WithLabels(agent: sortedLabels);
            if (SameJson(existing.Value, updated))
            {
                result = existing.Value;
                continue;
            }
            var update = Txn.If(Compare.ModRevision(Keys.Node(name), CompareOp.Equal, existing.ModRevision))
                .Then(ClusterState.PutNode(updated), state.EventOp("node.updated", "node/" + name, "registered again with new addresses, resources or labels", actor));
            if ((await state.Store.TxnAsync(update, ct).ConfigureAwait(false)).Succeeded)
            {
                result = updated;
            }
        }
        if (result is null)
        {
            return Problem(StatusCodes.Status409Conflict, "registration conflict", $"node {name} kept changing while it registered; try again");
        }
        services.GetRequiredService<HeartbeatTable>().Touch(name, now);
        return Results.Json(result, CoreJson.Default.Node);
    }

    private static async Task<IResult> HeartbeatAsync(HttpContext context)
    {
        var ct = context.RequestAborted;
        var services = context.RequestServices;
        var (heartbeat, bad) = await ReadAsync(context, CoreJson.Default.AgentHeartbeat).ConfigureAwait(false);
        if (heartbeat is null)
        {
            return bad!;
        }
        var name = Identify(context, heartbeat.Node, out var denied);
        if (name is null)
        {
            return denied!;
        }
        var reports = heartbeat.Replicas ?? [];
        if (reports.Any(r => r is null || string.IsNullOrEmpty(r.ReplicaId)))
        {
            return BadRequest("invalid heartbeat", [new FieldError("replicas", "every report needs a replica_id")]);
        }
        if (heartbeat.DiskUsedBytes < 0 || heartbeat.DiskTotalBytes < 0 || heartbeat.DiskUsedBytes > heartbeat.DiskTotalBytes)
        {
            return BadRequest("invalid heartbeat", [new FieldError("disk_used_bytes", $"must be 0 or more and at most disk_total_bytes; got {heartbeat.DiskUsedBytes} of {heartbeat.DiskTotalBytes}")]);
        }
        var tracker = services.GetRequiredService<AssignmentTracker>();
        await tracker.WaitReadyAsync(ct).ConfigureAwait(false);
        if (!tracker.IsKnownNode(name) && await services.GetRequiredService<ClusterState>().GetNodeAsync(name, ct).ConfigureAwait(false) is null)
        {
            return Problem(StatusCodes.Status404NotFound, "node not registered", $"node {name} is not registered: register it first");
        }
        services.GetRequiredService<HeartbeatTable>().Record(heartbeat with { Replicas = reports }, services.GetRequiredService<TimeProvider>().GetUtcNow(),
            context.Connection.ClientCertificate is { } certificate ? new DateTimeOffset(certificate.NotAfter.ToUniversalTime()) : null);
        // On record before answered: the agent counts this heartbeat as contact only from an answer that says so.
        LivenessVouch vouch;
        try
        {
            vouch = await services.GetRequiredService<LivenessRelay>().VouchAsync(name, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is StoreException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            return Api.ApiProblems.Unavailable($"this server cannot put node {name}'s liveness on record in the store now ({e.Message}); send heartbeats to another server");
        }
        var ack = await AcknowledgeAsync(services, tracker, name, vouch, ct).ConfigureAwait(false);
        await services.GetRequiredService<ReplicaReportWriter>().ApplyAsync(name, reports, ct).ConfigureAwait(false);
        return Results.Json(ack, CoreJson.Default.HeartbeatAck);
    }

    /// <summary>
    /// Whether the node is ready at a revision no earlier than its liveness key: from the transaction that put the key,
    /// else from the watch-fed cache once it has caught up with the key, else from the store.
    /// </summary>
    private static async Task<HeartbeatAck> AcknowledgeAsync(IServiceProvider services, AssignmentTracker tracker, string name, LivenessVouch vouch, CancellationToken ct)
    {
        if (vouch.Node is { } read)
        {
            return new HeartbeatAck(read.Value.Status == NodeStatus.Ready, vouch.KeyRevision);
        }
        var (cached, revision) = tracker.GetNode(name);
        if (revision >= vouch.KeyRevision)
        {
            return new HeartbeatAck(cached?.Value.Status == NodeStatus.Ready, revision);
        }
        var stored = await services.GetRequiredService<ClusterState>().GetNodeAsync(name, ct).ConfigureAwait(false);
        return new HeartbeatAck(stored?.Value.Status == NodeStatus.Ready, vouch.KeyRevision);
    }

    private static async Task<IResult> AssignmentsAsync(HttpContext context)
    {
        var services = context.RequestServices;
        var query = context.Request.Query;
        var name = Identify(context, query["node"].ToString(), out var denied);
        if (name is null)
        {
            return denied!;
        }
        var errors = new List<FieldError>();
        long index = 0;
        if (query.TryGetValue("index", out var indexText) && (!long.TryParse(indexText, out index) || index < 0))
        {
            errors.Add(new FieldError("index", $"'{indexText}' is not a revision (a whole number, 0 or more)"));
        }
        var options = services.GetRequiredService<ControlPlaneOptions>();
        var wait = options.MaxAssignmentsWait;
        if (query.TryGetValue("wait", out var waitText))
        {
            if (!Durations.TryParse(waitText, out wait, out var error))
            {
                errors.Add(new FieldError("wait", error));
            }
            wait = wait > options.MaxAssignmentsWait ? options.MaxAssignmentsWait : wait;
        }
        if (errors.Count > 0)
        {
            return BadRequest("invalid assignments query", errors);
        }
        var tracker = services.GetRequiredService<AssignmentTracker>();
        // A stopping server answers at once with what it has, so the blocking query does not hold its shutdown.
        var stopping = services.GetRequiredService<Microsoft.Extensions.Hosting.IHostApplicationLifetime>().ApplicationStopping;
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
        AssignmentSet set;
        try
        {
            set = await tracker.GetAssignmentsAsync(name, index, stopping.IsCancellationRequested ? TimeSpan.Zero : wait, waiting.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested && !context.RequestAborted.IsCancellationRequested)
        {
            set = await tracker.GetAssignmentsAsync(name, index, TimeSpan.Zero, context.RequestAborted).ConfigureAwait(false);
        }
        context.Response.Headers["X-Corral-Index"] = set.Index.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Results.Json(set, CoreJson.Default.AssignmentSet);
    }

    /// <summary>Stores a batch of log chunks (docs/logs.md); 204 once every chunk is stored, after which the agent moves its offsets on.</summary>
    private static async Task<IResult> LogsAsync(HttpContext context)
    {
        var ct = context.RequestAborted;
        var services = context.RequestServices;
        var (batch, bad) = await ReadAsync(context, CoreJson.Default.AgentLogBatch).ConfigureAwait(false);
        if (batch is null)
        {
            return bad!;
        }
        var name = Identify(context, batch.Node, out var denied);
        if (name is null)
        {
            return denied!;
        }
        var errors = Logs.LogStore.Validate(batch);
        if (errors.Count > 0)
        {
            return BadRequest("invalid log batch", errors);
        }
        var state = services.GetRequiredService<ClusterState>();
        foreach (var replicaId in batch.Chunks.Select(c => c.ReplicaId).Distinct(StringComparer.Ordinal))
        {
            // A replica the store still knows must be this node's: a node cannot write another node's logs.
            if (await state.Store.GetAsync(Keys.Replica(replicaId), ct).ConfigureAwait(false) is { } kv
                && JsonSerializer.Deserialize(kv.Value.Span, CoreJson.Default.Replica) is { Node: { } owner } && owner != name)
            {
                return Problem(StatusCodes.Status403Forbidden, "not this node's replica", $"replica {replicaId} is assigned to node {owner}, not {name}");
            }
        }
        await new Logs.LogStore(state.Store).WriteAsync(name, batch.Chunks, ct).ConfigureAwait(false);
        return Results.NoContent();
    }

    private static string? Identify(HttpContext context, string? claimed, out IResult? denied)
    {
        var node = context.RequestServices.GetRequiredService<AgentIdentity>().Resolve(context, claimed, out var status, out var title, out var error);
        denied = node is null ? Problem(status, title, error) : null;
        return node;
    }

    private static Task<(T? Value, IResult? Bad)> ReadAsync<T>(HttpContext context, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
        where T : class => Api.ApiProblems.ReadJsonAsync(context.Request, type);

    private static bool SameJson(Node a, Node b) =>
        JsonSerializer.SerializeToUtf8Bytes(a, CoreJson.Default.Node).AsSpan().SequenceEqual(JsonSerializer.SerializeToUtf8Bytes(b, CoreJson.Default.Node));

    private static IResult BadRequest(string title, IReadOnlyList<FieldError> errors) => Results.Problem(
        statusCode: StatusCodes.Status400BadRequest,
        title: title,
        detail: string.Join("; ", errors.Select(e => $"{e.Field}: {e.Message}")),
        extensions: new Dictionary<string, object?> { ["errors"] = errors });

    private static IResult Problem(int status, string title, string detail) => Results.Problem(statusCode: status, title: title, detail: detail);
}
