using System.Security.Cryptography.X509Certificates;

namespace Corral.Core.Security;

/// <summary>
/// The one trust rule of a cluster: a certificate is trusted when it chains to the cluster CA, and only to it (no
/// system roots, no revocation lookups, which would leave the machine).
/// </summary>
public static class ClusterTrust
{
    /// <summary>True when <paramref name="certificate"/> chains to <paramref name="ca"/>, checked at <paramref name="at"/> (default: now).</summary>
    public static bool Chains(X509Certificate2 ca, X509Certificate2 certificate, DateTimeOffset? at = null)
    {
        ArgumentNullException.ThrowIfNull(ca);
        ArgumentNullException.ThrowIfNull(certificate);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (at is { } time)
        {
            chain.ChainPolicy.VerificationTime = time.UtcDateTime;
        }
        return chain.Build(certificate);
    }
}
