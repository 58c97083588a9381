using Corral.Core.Monitoring;

namespace Corral.Server.Monitoring;

/// <summary>The certificates this server holds (the cluster CA and its own), for the certificate-expiry alarm.</summary>
public sealed record ServerCertificates(IReadOnlyList<CertificateHealth> Certificates)
{
    /// <summary>None (a server built without TLS material, in tests).</summary>
    public static ServerCertificates None { get; } = new([]);
}
