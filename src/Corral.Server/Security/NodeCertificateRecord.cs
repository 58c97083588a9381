namespace Corral.Server.Security;

/// <summary>
/// The certificates issued to one node that have not expired, kept at <c>/corral/nodecerts/NODE</c>: what
/// <c>corral node rm</c> revokes.
/// </summary>
public sealed record NodeCertificateRecord(string Node, IReadOnlyList<IssuedCertificate> Certificates);
