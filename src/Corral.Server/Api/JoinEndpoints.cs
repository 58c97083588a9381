using System.Security.Cryptography;
using Corral.Core;
using Corral.Core.Api;
using Corral.Core.Security;
using Corral.Server.Agents;
using Corral.Server.Security;
using Corral.Server.State;
using Corral.Store;

namespace Corral.Server.Api;

/// <summary>Join tokens (admin) and the join itself (authenticated by the token alone).</summary>
internal static class JoinEndpoints
{
    private const int MaxJoinAttempts = 10;

    private const int MaxUses = 10_000;

    private static readonly TimeSpan DefaultTtl = TimeSpan.FromHours(1);

    private static readonly TimeSpan MaxTtl = TimeSpan.FromDays(365);

    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapGet("/tokens", async (JoinTokenStore tokens, CancellationToken ct) =>
            Results.Json((await tokens.ListAsync(ct).ConfigureAwait(false)).Select(View).ToList(), CoreJson.Default.ListJoinTokenView))
            .RequireRole(Role.Admin);

        api.MapPost("/tokens", async (HttpRequest request, JoinTokenStore tokens, CancellationToken ct) =>
        {
            var (body, error) = await ApiProblems.ReadJsonAsync(request, CoreJson.Default.JoinTokenCreateRequest).ConfigureAwait(false);
            if (error is not null)
            {
                return error;
            }
            var errors = new List<FieldError>();
            var ttl = DefaultTtl;
            if (body!.Ttl is not null)
            {
                if (!Durations.TryParse(body.Ttl, out ttl, out var ttlError))
                {
                    errors.Add(new FieldError("ttl", ttlError));
                }
                else if (ttl <= TimeSpan.Zero || ttl > MaxTtl)
                {
                    errors.Add(new FieldError("ttl", $"must be more than 0 and at most {Durations.Format(MaxTtl)}"));
                }
            }
            var uses = body.Uses ?? 1;
            if (uses is < 1 or > MaxUses)
            {
                errors.Add(new FieldError("uses", $"must be 1 to {MaxUses}"));
            }
            var role = body.Role ?? "agent";
            if (!JoinTokenStore.Roles.Contains(role))
            {
                errors.Add(new FieldError("role", $"'{role}' is not one of {string.Join(", ", JoinTokenStore.Roles)}"));
            }
            if (errors.Count > 0)
            {
                return ApiProblems.BadRequest("invalid join token request", errors);
            }
            var caller = ApiAuth.CallerOf(request.HttpContext);
            var (record, token) = await tokens.CreateAsync(ttl, uses, role, caller.Actor, ct).ConfigureAwait(false);
            return Results.Json(new JoinTokenCreated(View(record), token.ToString()), CoreJson.Default.JoinTokenCreated, statusCode: StatusCodes.Status201Created);
        }).RequireRole(Role.Admin);

        api.MapDelete("/tokens/{id}", async (string id, HttpContext http, JoinTokenStore tokens, CancellationToken ct) =>
        {
            var caller = ApiAuth.CallerOf(http);
            return await tokens.RevokeAsync(id, caller.Actor, ct).ConfigureAwait(false)
                ? Results.NoContent()
                : Names.CheckId(id, "join token id") is { } broken
                    ? ApiProblems.BadRequest(broken, [new FieldError("id", broken)])
                    : ApiProblems.NotFound($"no join token with id '{id}'");
        }).RequireRole(Role.Admin);

        // The cluster CA (public), for a joining node to check against its token's pin before it trusts the server.
        api.MapGet("/join/ca", (CertificateAuthority ca) => Results.Text(ca.Certificate.ExportCertificatePem(), "application/x-pem-file"));

        api.MapPost("/join", async (HttpRequest request, JoinTokenStore tokens, ClusterState state, NodeCertificates certificates, CancellationToken ct) =>
        {
            var (body, error) = await ApiProblems.ReadJsonAsync(request, CoreJson.Default.JoinRequest).ConfigureAwait(false);
            if (error is not null)
            {
                return error;
            }
            if (!JoinToken.TryParse(body!.Token, out var token, out var tokenError))
            {
                return ApiProblems.Unauthorized(tokenError);
            }
            var errors = new List<FieldError>();
            if (Names.CheckNode(body.Node) is { } nameError)
            {
                errors.Add(new FieldError("node", nameError));
            }
            if (string.IsNullOrWhiteSpace(body.CsrPem) || !IsValidCsr(body.CsrPem))
            {
                errors.Add(new FieldError("csr_pem", "must be a PEM certificate signing request (PKCS#10) with a valid signature"));
            }
            if (errors.Count > 0)
            {
                return ApiProblems.BadRequest("invalid join request", errors);
            }
            // The token's use, the certificate's record and the join event are one transaction: a join happens whole or
            // leaves the token as it was (a store failure cannot use the token up without issuing a certificate).
            using var certificate = certificates.Sign(body.Node, body.CsrPem);
            for (var attempt = 0; attempt < MaxJoinAttempts; attempt++)
            {
                var (redemption, refusal) = await tokens.PrepareRedeemAsync(token, body.Node, "agent", ct).ConfigureAwait(false);
                if (redemption is null)
                {
                    return ApiProblems.Unauthorized(refusal!);
                }
                if (await state.GetNodeAsync(body.Node, ct).ConfigureAwait(false) is not null)
                {
                    return ApiProblems.Conflict($"node '{body.Node}' is already registered; remove it ('corral node rm {body.Node}') before joining again under that name");
                }
                var (recordCompare, recordPut, unexpired) = await certificates.RecordOpsAsync(body.Node, certificate, ct).ConfigureAwait(false);
                if (unexpired.Count > 0)
                {
                    // Joined (a certificate was issued) but not registered yet: one name, one holder.
                    return ApiProblems.Conflict($"node '{body.Node}' joined already (certificate issued {unexpired[^1].IssuedAt:u}) and has not registered; "
                        + $"remove it ('corral node rm {body.Node}') before joining again under that name");
                }
                var result = await state.Store.TxnAsync(
                    Txn.If(redemption.Compare, recordCompare, Compare.Missing(Keys.Node(body.Node))).Then([.. redemption.Ops, recordPut]),
                    ct).ConfigureAwait(false);
                if (result.Succeeded)
                {
                    return Results.Json(new JoinResponse(certificate.ExportCertificatePem(), certificates.Authority.Certificate.ExportCertificatePem()), CoreJson.Default.JoinResponse);
                }
            }
            return ApiProblems.Conflict($"the join token or node '{body.Node}' kept changing while joining; join again");
        });

        // Renewal: authenticated by the node's current certificate (mTLS), for that node only, before it expires.
        api.MapPost("/agent/renew", async (HttpContext http, AgentIdentity identity, RevokedCertificates revoked, NodeCertificates certificates, ILogger<NodeCertificates> logger, CancellationToken ct) =>
        {
            // Authenticate first, always (as every agent endpoint): no certificate or a revoked one is 401 before the body is read.
            await revoked.WaitReadyAsync(ct).ConfigureAwait(false);
            if (!identity.Authenticate(http, out var deniedTitle, out var deniedDetail))
            {
                return Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: deniedTitle, detail: deniedDetail);
            }
            var (body, error) = await ApiProblems.ReadJsonAsync(http.Request, CoreJson.Default.CertificateRenewRequest).ConfigureAwait(false);
            if (error is not null)
            {
                return error;
            }
            var node = identity.Resolve(http, body!.Node, out var status, out var title, out var detail);
            if (node is null)
            {
                return Results.Problem(statusCode: status, title: title, detail: detail);
            }
            if (string.IsNullOrWhiteSpace(body.CsrPem) || !IsValidCsr(body.CsrPem))
            {
                return ApiProblems.BadRequest("invalid renewal request", [new FieldError("csr_pem", "must be a PEM certificate signing request (PKCS#10) with a valid signature")]);
            }
            using var certificate = await certificates.IssueAsync(node, body.CsrPem, ct).ConfigureAwait(false);
            if (certificate is null)
            {
                return ApiProblems.Conflict($"node '{node}' was issued other certificates at the same moment; try again");
            }
            SecurityLog.CertificateRenewed(logger, node, certificate.SerialNumber, certificate.NotAfter.ToUniversalTime());
            return Results.Json(new JoinResponse(certificate.ExportCertificatePem(), certificates.Authority.Certificate.ExportCertificatePem()), CoreJson.Default.JoinResponse);
        });
    }

    private static bool IsValidCsr(string pem)
    {
        try
        {
            _ = System.Security.Cryptography.X509Certificates.CertificateRequest.LoadSigningRequestPem(
                pem, HashAlgorithmName.SHA256, System.Security.Cryptography.X509Certificates.CertificateRequestLoadOptions.Default);
            return true;
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            return false;
        }
    }

    private static JoinTokenView View(JoinTokenRecord r) =>
        new(r.Id, r.Role, r.CreatedAt, r.CreatedBy, r.ExpiresAt, r.Uses, r.UsesLeft, r.RevokedAt);
}
