namespace Corral.Server.Security;

/// <summary>
/// A node certificate that may no longer be used, kept at <c>/corral/revoked/SERIAL</c> until it expires: agent
/// endpoints refuse it with 401 even though it chains to the cluster CA.
/// </summary>
public sealed record RevokedCertificate(string Serial, string Node, DateTimeOffset RevokedAt, string RevokedBy, DateTimeOffset NotAfter);
