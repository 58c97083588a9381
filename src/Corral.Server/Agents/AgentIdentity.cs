using System.Security.Cryptography.X509Certificates;
using Corral.Server.Security;
using Microsoft.AspNetCore.Http;

namespace Corral.Server.Agents;

/// <summary>
/// Decides which node an agent request speaks for: the one place agent identity is checked. The node's identity is
/// the common name of its client certificate, which the cluster CA issued (Kestrel has already verified the chain
/// during the TLS handshake). A request without a certificate is 401; so is one with a certificate revoked by
/// <c>corral node rm</c>; one that states another node is 403.
/// </summary>
public sealed class AgentIdentity
{
    /// <summary>The problem title of a request made with a revoked certificate: agents recognise it and stop.</summary>
    public const string RevokedTitle = "certificate revoked";

    private readonly RevokedCertificates _revoked;

    public AgentIdentity(RevokedCertificates revoked)
    {
        _revoked = revoked ?? throw new ArgumentNullException(nameof(revoked));
    }

    /// <summary>
    /// The node <paramref name="context"/> may act as, given the node it <paramref name="claimed"/>; otherwise null and
    /// the reason in <paramref name="error"/> (and <paramref name="status"/>: 400 for a malformed name, 403 when the
    /// caller may not act for that node).
    /// </summary>
    public string? Resolve(HttpContext context, string? claimed, out int status, out string error) =>
        Resolve(context, claimed, out status, out _, out error);

    /// <summary>As <see cref="Resolve(HttpContext, string?, out int, out string)"/>, with a problem title for the refusal.</summary>
    /// <remarks>Revocations are those the server has loaded: await <see cref="RevokedCertificates.WaitReadyAsync"/> first.</remarks>
    public string? Resolve(HttpContext context, string? claimed, out int status, out string title, out string error)
    {
        ArgumentNullException.ThrowIfNull(context);
        title = "invalid node name";
        if (Corral.Core.Names.CheckNode(claimed) is { } nameError)
        {
            status = StatusCodes.Status400BadRequest;
            error = nameError;
            return null;
        }
        var certificate = context.Connection.ClientCertificate;
        if (certificate is null)
        {
            status = StatusCodes.Status401Unauthorized;
            title = "no node certificate";
            error = "agent endpoints need the node's client certificate, issued by the cluster CA (mTLS)";
            return null;
        }
        var identity = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        if (!string.Equals(identity, claimed, StringComparison.Ordinal))
        {
            status = StatusCodes.Status403Forbidden;
            title = "not this node";
            error = $"this client certificate is node '{identity}'; it may not act for node '{claimed}'";
            return null;
        }
        if (_revoked.Find(certificate) is { } revocation)
        {
            status = StatusCodes.Status401Unauthorized;
            title = RevokedTitle;
            error = RevokedDetail(identity, revocation);
            return null;
        }
        status = StatusCodes.Status200OK;
        title = "";
        error = "";
        return claimed;
    }

    /// <summary>
    /// Authentication alone, before a request's body or query is read: a client certificate the cluster CA issued
    /// (checked in the handshake) that is not revoked. False with the 401's title and detail otherwise.
    /// </summary>
    public bool Authenticate(HttpContext context, out string title, out string error)
    {
        ArgumentNullException.ThrowIfNull(context);
        var certificate = context.Connection.ClientCertificate;
        if (certificate is null)
        {
            title = "no node certificate";
            error = "agent endpoints need the node's client certificate, issued by the cluster CA (mTLS)";
            return false;
        }
        if (_revoked.Find(certificate) is { } revocation)
        {
            title = RevokedTitle;
            error = RevokedDetail(certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false), revocation);
            return false;
        }
        title = "";
        error = "";
        return true;
    }

    private static string RevokedDetail(string node, RevokedCertificate revocation) =>
        $"the certificate of node '{node}' (serial {revocation.Serial}) was revoked at {revocation.RevokedAt:u} by {revocation.RevokedBy} "
        + "when the node was removed ('corral node rm'); join again with a new token ('corral node token create')";
}
