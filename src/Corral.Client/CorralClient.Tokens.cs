using Corral.Core;
using Corral.Core.Api;

namespace Corral.Client;

public sealed partial class CorralClient
{
    /// <summary>GET /v1/tokens (admin): every join token, revoked and used ones included, without secrets.</summary>
    public async Task<IReadOnlyList<JoinTokenView>> ListJoinTokensAsync(CancellationToken cancellationToken) =>
        await SendAsync(HttpMethod.Get, "v1/tokens", null, CoreJson.Default.ListJoinTokenView, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// POST /v1/tokens (admin): a new join token; <paramref name="ttl"/> is a duration such as <c>1h</c> (null: the
    /// server's default), <paramref name="uses"/> how many nodes may join with it. Its text is shown only here.
    /// </summary>
    public Task<JoinTokenCreated> CreateJoinTokenAsync(string? ttl, int? uses, string? role, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, "v1/tokens", Json(new JoinTokenCreateRequest(ttl, uses, role), CoreJson.Default.JoinTokenCreateRequest), CoreJson.Default.JoinTokenCreated, cancellationToken);

    /// <summary>DELETE /v1/tokens/{id} (admin): revokes a join token; 404 when there is no such token.</summary>
    public Task RevokeJoinTokenAsync(string id, CancellationToken cancellationToken) =>
        SendNoContentAsync(HttpMethod.Delete, "v1/tokens/" + Escape(id), cancellationToken);

    /// <summary>POST /v1/join (the token is the credential): the node's certificate, issued from its CSR, and the cluster CA.</summary>
    public Task<JoinResponse> JoinAsync(JoinRequest request, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, "v1/join", Json(request, CoreJson.Default.JoinRequest), CoreJson.Default.JoinResponse, cancellationToken);
}
