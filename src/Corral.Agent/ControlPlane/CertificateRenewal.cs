using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Corral.Core.Security;

namespace Corral.Agent.ControlPlane;

/// <summary>When a node certificate is renewed, and how a renewed one is checked before it is used.</summary>
public static class CertificateRenewal
{
    /// <summary>
    /// When <paramref name="certificate"/> is due for renewal: after <paramref name="fraction"/> of its validity
    /// (<c>NotBefore</c> to <c>NotAfter</c>) has passed.
    /// </summary>
    public static DateTimeOffset DueAt(X509Certificate2 certificate, double fraction)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var notBefore = new DateTimeOffset(certificate.NotBefore.ToUniversalTime());
        var notAfter = new DateTimeOffset(certificate.NotAfter.ToUniversalTime());
        return notBefore + (notAfter - notBefore) * fraction;
    }

    /// <summary>A new P-256 key and a CSR for it, naming <paramref name="node"/>.</summary>
    public static (ECDsa Key, string CsrPem) NewRequest(string node)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = new CertificateRequest($"CN={node}", key, HashAlgorithmName.SHA256).CreateSigningRequestPem();
        return (key, csr);
    }

    /// <summary>
    /// The certificate a server issued for <paramref name="key"/>, with the key, once it is shown to chain to the
    /// cluster CA, to name <paramref name="node"/> and to carry the key's public half; throws
    /// <see cref="InvalidDataException"/> saying what is wrong otherwise.
    /// </summary>
    public static X509Certificate2 Accept(string certificatePem, ECDsa key, X509Certificate2 ca, string node, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(key);
        using var issued = X509Certificate2.CreateFromPem(certificatePem);
        if (!ClusterTrust.Chains(ca, issued, now))
        {
            throw new InvalidDataException("the renewed certificate does not chain to the cluster CA or is not valid now");
        }
        var name = issued.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        if (!string.Equals(name, node, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"the renewed certificate names node '{name}', not '{node}'");
        }
        using var publicKey = issued.GetECDsaPublicKey();
        if (publicKey is null || !publicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(key.ExportSubjectPublicKeyInfo()))
        {
            throw new InvalidDataException("the renewed certificate is not for the key this node sent");
        }
        using var withKey = issued.CopyWithPrivateKey(key);
        // Export/import so the key is usable for TLS client authentication on every platform.
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }
}
