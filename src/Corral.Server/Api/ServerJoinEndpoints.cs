using System.Text.Json;
using Corral.Core;
using Corral.Core.Api;
using Corral.Core.Security;
using Corral.Server.Security;
using Corral.Server.State;
using Corral.Store;
using Corral.Store.Etcd;

namespace Corral.Server.Api;

/// <summary>
/// <c>POST /v1/join/server</c> (no API key: the server-role join token is the credential): adds the new server's etcd
/// member through etcd's member API and gives it the cluster's CAs and how to start its member.
/// </summary>
internal static class ServerJoinEndpoints
{
    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapPost("/join/server", async (HttpRequest request, JoinTokenStore tokens, IClusterStore store, ServerConfig config, EtcdEndpointSync endpointSync, CancellationToken ct) =>
        {
            var (body, error) = await ApiProblems.ReadJsonAsync(request, CoreJson.Default.ServerJoinRequest).ConfigureAwait(false);
            if (error is not null)
            {
                return error;
            }
            if (!JoinToken.TryParse(body!.Token, out var token, out var tokenError))
            {
                return ApiProblems.Unauthorized(tokenError);
            }
            var errors = new List<FieldError>();
            if (Names.CheckNode(body.Name, "server name") is { } nameError)
            {
                errors.Add(new FieldError("name", nameError));
            }
            foreach (var (field, url) in new[] { ("peer_url", body.PeerUrl), ("client_url", body.ClientUrl) })
            {
                if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != "https" || uri.IsDefaultPort || uri.AbsolutePath != "/")
                {
                    errors.Add(new FieldError(field, $"'{url}' must be https://IP:PORT"));
                }
            }
            if (errors.Count > 0)
            {
                return ApiProblems.BadRequest("invalid server join request", errors);
            }
            if (config.ManagedEtcd is null || Metrics.InstrumentedStore.Unwrap(store) is not EtcdStore etcd)
            {
                return ApiProblems.Conflict("this cluster's store is not an etcd managed by Corral (server init --ha): initialize the new server with 'corral server init --store etcd://...' against the same etcd instead");
            }
            var members = await etcd.ListMembersAsync(ct).ConfigureAwait(false);
            if (members.Any(m => m.Name == body.Name || m.PeerUrls.Contains(body.PeerUrl, StringComparer.OrdinalIgnoreCase)))
            {
                return ApiProblems.Conflict($"an etcd member named '{body.Name}' or with peer URL {body.PeerUrl} exists already; remove it first ('corral server leave' on that server)");
            }
            var authorityKv = await store.GetAsync(Keys.Authority, ct).ConfigureAwait(false);
            var authority = authorityKv is null ? null : JsonSerializer.Deserialize(authorityKv.Value.Span, ServerJson.Default.ClusterAuthority);
            if (authority?.EtcdCaCertificatePem is null || authority.EtcdCaKeyPem is null)
            {
                return ApiProblems.Conflict("the store holds no etcd CA: this cluster was not initialized with 'corral server init --ha'");
            }
            var (_, refusal) = await tokens.RedeemAsync(token, body.Name, ct, role: "server").ConfigureAwait(false);
            if (refusal is not null)
            {
                return ApiProblems.Unauthorized(refusal);
            }
            var (added, after) = await AddMemberAsync(etcd, body.PeerUrl, ct).ConfigureAwait(false);
            // This server learns the new member's client URL (and saves it) once the member has started.
            endpointSync.MemberAdded();
            var initial = string.Join(',', after.Select(m => $"{(m.Id == added.Id ? body.Name : m.Name)}={m.PeerUrls[0]}"));
            var endpoints = after.SelectMany(m => m.Id == added.Id ? [body.ClientUrl] : m.ClientUrls.Take(1)).ToList();
            return Results.Json(
                new ServerJoinResponse(authority.Cluster, authority.CertificatePem, authority.KeyPem, authority.EtcdCaCertificatePem, authority.EtcdCaKeyPem, initial, endpoints),
                CoreJson.Default.ServerJoinResponse);
        });
    }

    /// <summary>
    /// etcd refuses to add a voting member ("unhealthy cluster") until enough members have been connected for 5 s, so a
    /// join right after another one waits for that, up to 30 s.
    /// </summary>
    private static async Task<(EtcdMemberInfo Added, IReadOnlyList<EtcdMemberInfo> Members)> AddMemberAsync(EtcdStore etcd, string peerUrl, CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                return await etcd.AddMemberAsync(peerUrl, cancellationToken).ConfigureAwait(false);
            }
            catch (StoreException e) when (e.Message.Contains("unhealthy cluster", StringComparison.Ordinal) && DateTimeOffset.UtcNow < deadline)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
