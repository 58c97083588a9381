namespace Corral.Core.Api;

/// <summary>
/// POST /v1/agent/renew: a node asks for a new client certificate for a new key, authenticated by its current
/// certificate (mTLS); the answer is a <see cref="JoinResponse"/>.
/// </summary>
/// <param name="Node">The node's name: the one its current certificate names.</param>
/// <param name="CsrPem">A PEM certificate signing request (PKCS#10) for the node's new key.</param>
public sealed record CertificateRenewRequest(string Node, string CsrPem);
