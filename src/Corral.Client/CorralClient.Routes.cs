using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Corral.Core;
using Corral.Core.Api;

namespace Corral.Client;

// One method per route of docs/api.md.
public sealed partial class CorralClient
{
    /// <summary>GET /v1/status: version, store, leader, nodes and a summary of services.</summary>
    public Task<ClusterStatus> GetStatusAsync(CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, "v1/status", null, CoreJson.Default.ClusterStatus, cancellationToken);

    /// <summary>GET /v1/nodes, ordered by name.</summary>
    public async Task<IReadOnlyList<NodeView>> ListNodesAsync(CancellationToken cancellationToken) =>
        await SendAsync(HttpMethod.Get, "v1/nodes", null, CoreJson.Default.ListNodeView, cancellationToken).ConfigureAwait(false);

    /// <summary>GET /v1/nodes/{name}; 404 as <see cref="CorralApiException"/> when there is no such node.</summary>
    public Task<NodeView> GetNodeAsync(string name, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, "v1/nodes/" + Escape(name), null, CoreJson.Default.NodeView, cancellationToken);

    /// <summary>POST /v1/nodes/{name}/drain: no new replicas on the node; its replicas move elsewhere, each replacement healthy before the old one stops. Idempotent.</summary>
    public Task<NodeView> DrainNodeAsync(string name, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, $"v1/nodes/{Escape(name)}/drain", null, CoreJson.Default.NodeView, cancellationToken);

    /// <summary>POST /v1/nodes/{name}/undrain: the node is eligible for new replicas again (a drain in progress stops). Idempotent.</summary>
    public Task<NodeView> UndrainNodeAsync(string name, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, $"v1/nodes/{Escape(name)}/undrain", null, CoreJson.Default.NodeView, cancellationToken);

    /// <summary>PUT /v1/nodes/{name}/labels: the node's labels become exactly <paramref name="labels"/> (empty clears them); invalid ones are a 400.</summary>
    public Task<NodeView> SetNodeLabelsAsync(string name, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Put, $"v1/nodes/{Escape(name)}/labels", Json(new NodeLabelsRequest(labels), CoreJson.Default.NodeLabelsRequest), CoreJson.Default.NodeView, cancellationToken);

    /// <summary>DELETE /v1/nodes/{name} (admin): removes the node; its replicas are lost and replaced elsewhere. 404 when there is no such node.</summary>
    public Task RemoveNodeAsync(string name, CancellationToken cancellationToken) =>
        SendNoContentAsync(HttpMethod.Delete, "v1/nodes/" + Escape(name), cancellationToken);

    /// <summary>GET /v1/services, ordered by name, each with its replicas.</summary>
    public async Task<IReadOnlyList<ServiceView>> ListServicesAsync(CancellationToken cancellationToken) =>
        await SendAsync(HttpMethod.Get, "v1/services", null, CoreJson.Default.ListServiceView, cancellationToken).ConfigureAwait(false);

    /// <summary>GET /v1/services/{name}; 404 when there is no such service.</summary>
    public Task<ServiceView> GetServiceAsync(string name, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, "v1/services/" + Escape(name), null, CoreJson.Default.ServiceView, cancellationToken);

    /// <summary>GET /v1/replicas, optionally only those of one service and/or on one node.</summary>
    public async Task<IReadOnlyList<ReplicaView>> ListReplicasAsync(string? service, string? node, CancellationToken cancellationToken)
    {
        var path = new StringBuilder("v1/replicas");
        Query(path, "service", service);
        Query(path, "node", node);
        return await SendAsync(HttpMethod.Get, path.ToString(), null, CoreJson.Default.ListReplicaView, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>PUT /v1/services/{name}/scale: sets the desired replica count; returns the service after the change.</summary>
    public Task<ServiceView> ScaleAsync(string name, int replicas, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Put, $"v1/services/{Escape(name)}/scale", Json(new ScaleRequest(replicas), CoreJson.Default.ScaleRequest), CoreJson.Default.ServiceView, cancellationToken);

    /// <summary>POST /v1/services/{name}/restart: every replica is replaced, one at a time; returns the service (its new version).</summary>
    public Task<ServiceView> RestartAsync(string name, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, $"v1/services/{Escape(name)}/restart", null, CoreJson.Default.ServiceView, cancellationToken);

    /// <summary>DELETE /v1/services/{name}: removes the service; its replicas stop. 404 when there is no such service.</summary>
    public Task RemoveServiceAsync(string name, CancellationToken cancellationToken) =>
        SendNoContentAsync(HttpMethod.Delete, "v1/services/" + Escape(name), cancellationToken);

    /// <summary>POST /v1/stacks/deploy: applies a stack file; a bad file is a 400 with every located error.</summary>
    public Task<DeployResult> DeployAsync(DeployRequest request, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, "v1/stacks/deploy", Json(request, CoreJson.Default.DeployRequest), CoreJson.Default.DeployResult, cancellationToken);

    /// <summary>POST /v1/stacks/diff: what <see cref="DeployAsync"/> would change; changes nothing.</summary>
    public Task<DeployResult> DiffAsync(DeployRequest request, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, "v1/stacks/diff", Json(request, CoreJson.Default.DeployRequest), CoreJson.Default.DeployResult, cancellationToken);

    /// <summary>
    /// GET /v1/events: events after <paramref name="index"/> (a store revision), oldest first, at most
    /// <paramref name="limit"/> (server default 1,000). With <paramref name="wait"/> the server holds the request until
    /// an event arrives or the wait (at most 5 m) is over; the page's <see cref="EventPage.Index"/> is the index to
    /// ask from next.
    /// </summary>
    public Task<EventPage> GetEventsAsync(long index, TimeSpan? wait, int? limit, CancellationToken cancellationToken) =>
        GetEventsAsync(new EventRequest { Index = index, Limit = limit }, wait, cancellationToken);

    /// <summary>
    /// GET /v1/events with filters (<see cref="EventRequest"/>): the matching events, oldest first. With
    /// <paramref name="wait"/> the server holds the request until a matching event arrives or the wait (at most 5 m) is
    /// over; ask again from the page's <see cref="EventPage.Index"/> (without <see cref="EventRequest.Tail"/>).
    /// A bad value is refused with a 400 naming the parameter (<see cref="CorralApiException"/>).
    /// </summary>
    public Task<EventPage> GetEventsAsync(EventRequest request, TimeSpan? wait, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var path = new StringBuilder("v1/events");
        Query(path, "index", request.Index.ToString(CultureInfo.InvariantCulture));
        Query(path, "wait", wait is { } w ? Durations.Format(w) : null);
        Query(path, "limit", request.Limit?.ToString(CultureInfo.InvariantCulture));
        Query(path, "since", request.Since);
        Query(path, "tail", request.Tail?.ToString(CultureInfo.InvariantCulture));
        Query(path, "type", request.Type);
        Query(path, "service", request.Service);
        Query(path, "node", request.Node);
        return SendAsync(HttpMethod.Get, path.ToString(), null, CoreJson.Default.EventPage, cancellationToken, wait ?? TimeSpan.Zero);
    }

    /// <summary>
    /// Every event after <paramref name="index"/>, then each new one as it happens (blocking queries of
    /// <paramref name="wait"/> each), until <paramref name="cancellationToken"/> is cancelled. Connection failures
    /// end the enumeration with the exception.
    /// </summary>
    public IAsyncEnumerable<ClusterEvent> FollowEventsAsync(long index, TimeSpan wait, CancellationToken cancellationToken) =>
        FollowEventsAsync(new EventRequest { Index = index }, wait, cancellationToken);

    /// <summary>
    /// The events <paramref name="request"/> asks for, then each new matching one as it happens (blocking queries of
    /// <paramref name="wait"/> each), until <paramref name="cancellationToken"/> is cancelled. A tail or since applies to
    /// the first answer; the filters to every one. Connection failures end the enumeration with the exception.
    /// </summary>
    public async IAsyncEnumerable<ClusterEvent> FollowEventsAsync(EventRequest request, TimeSpan wait, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var next = request;
        while (!cancellationToken.IsCancellationRequested)
        {
            var page = await GetEventsAsync(next, wait, cancellationToken).ConfigureAwait(false);
            foreach (var item in page.Events)
            {
                yield return item;
            }
            next = next with { Index = Math.Max(next.Index, page.Index), Tail = null };
        }
    }

    /// <summary>GET /v1/apikeys (admin): every key, revoked ones included, without secrets.</summary>
    public async Task<IReadOnlyList<ApiKeyView>> ListApiKeysAsync(CancellationToken cancellationToken) =>
        await SendAsync(HttpMethod.Get, "v1/apikeys", null, CoreJson.Default.ListApiKeyView, cancellationToken).ConfigureAwait(false);

    /// <summary>POST /v1/apikeys (admin): a new key with role <c>viewer</c>, <c>operator</c> or <c>admin</c>; its token is shown only here.</summary>
    public Task<ApiKeyCreated> CreateApiKeyAsync(string name, string role, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, "v1/apikeys", Json(new ApiKeyCreateRequest(name, role), CoreJson.Default.ApiKeyCreateRequest), CoreJson.Default.ApiKeyCreated, cancellationToken);

    /// <summary>DELETE /v1/apikeys/{id} (admin): revokes a key; 404 when there is no such key.</summary>
    public Task RevokeApiKeyAsync(string id, CancellationToken cancellationToken) =>
        SendNoContentAsync(HttpMethod.Delete, "v1/apikeys/" + Escape(id), cancellationToken);
}
