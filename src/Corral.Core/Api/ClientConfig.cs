namespace Corral.Core.Api;

/// <summary>
/// A client's view of a cluster: where, whom to trust, which key. Written by <c>corral server init</c> and
/// <c>corral dev</c>, read by the CLI and the .NET client (see docs/cli.md for where it is looked up).
/// </summary>
/// <param name="Addresses">Server URLs, e.g. https://127.0.0.1:7700 (several for HA; tried in order).</param>
/// <param name="CaCertificatePem">The cluster CA certificate, so clients trust the servers without <c>--insecure</c>.</param>
/// <param name="Token">The API key (<c>crl_…</c>).</param>
public sealed record ClientConfig(IReadOnlyList<string> Addresses, string CaCertificatePem, string Token);
