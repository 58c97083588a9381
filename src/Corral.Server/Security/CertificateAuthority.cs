using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Corral.Core.Security;

namespace Corral.Server.Security;

/// <summary>
/// The cluster CA: an EC P-256 key and a self-signed certificate that issues the servers' TLS certificates and the
/// nodes' client certificates (from their CSRs). Created once by <c>corral server init</c>.
/// </summary>
public sealed class CertificateAuthority : IDisposable
{
    /// <value>Validity of the CA certificate. 10 years.</value>
    public static readonly TimeSpan CaValidity = TimeSpan.FromDays(3650);

    private readonly ECDsa _key;
    private readonly TimeProvider _time;

    private CertificateAuthority(X509Certificate2 certificate, ECDsa key, TimeProvider time)
    {
        Certificate = certificate;
        _key = key;
        _time = time;
    }

    /// <summary>The CA certificate (public part).</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The pin that join tokens carry.</summary>
    public string Pin => CaPin.Of(Certificate);

    /// <summary>Creates a new CA for the cluster <paramref name="clusterName"/>.</summary>
    public static CertificateAuthority Create(string clusterName, TimeProvider time)
    {
        ArgumentException.ThrowIfNullOrEmpty(clusterName);
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN=Corral CA {clusterName}, O=Corral", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 1, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = time.GetUtcNow();
        var certificate = request.CreateSelfSigned(now.AddMinutes(-5), now + CaValidity);
        return new CertificateAuthority(certificate, key, time);
    }

    /// <summary>Loads a CA from its PEM files (certificate and PKCS#8 private key).</summary>
    public static CertificateAuthority Load(string certificatePemPath, string keyPemPath, TimeProvider time) =>
        FromPem(File.ReadAllText(certificatePemPath), File.ReadAllText(keyPemPath), time);

    /// <summary>A CA from its certificate and PKCS#8 private key as PEM text.</summary>
    public static CertificateAuthority FromPem(string certificatePem, string keyPem, TimeProvider time)
    {
        var certificate = X509Certificate2.CreateFromPem(certificatePem);
        var key = ECDsa.Create();
        key.ImportFromPem(keyPem);
        return new CertificateAuthority(certificate, key, time);
    }

    /// <summary>The CA's private key as PKCS#8 PEM.</summary>
    public string ExportKeyPem() => _key.ExportPkcs8PrivateKeyPem();

    /// <summary>Writes the CA certificate and key as PEM; the key file is created with mode 0600.</summary>
    public void Save(string certificatePemPath, string keyPemPath)
    {
        File.WriteAllText(certificatePemPath, Certificate.ExportCertificatePem());
        WritePrivate(keyPemPath, _key.ExportPkcs8PrivateKeyPem());
    }

    /// <summary>Issues a server certificate (server and client auth) for the given names and addresses, with a new key.</summary>
    public X509Certificate2 IssueServerCertificate(string name, IEnumerable<string> dnsNames, IEnumerable<IPAddress> addresses, TimeSpan validity)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}, O=Corral servers", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var dns in dnsNames)
        {
            san.AddDnsName(dns);
        }
        foreach (var address in addresses)
        {
            san.AddIpAddress(address);
        }
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([Oids.ServerAuth, Oids.ClientAuth], false));
        var certificate = Sign(request, validity);
        return certificate.CopyWithPrivateKey(key);
    }

    /// <summary>
    /// Issues a client certificate for node <paramref name="nodeName"/> from its CSR (PEM). The subject is set by the
    /// CA, not taken from the CSR: the node's identity is what the join token allowed.
    /// </summary>
    public X509Certificate2 IssueNodeCertificate(string csrPem, string nodeName, TimeSpan validity)
    {
        var csr = CertificateRequest.LoadSigningRequestPem(csrPem, HashAlgorithmName.SHA256, CertificateRequestLoadOptions.Default);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={nodeName}, O=Corral nodes"), csr.PublicKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([Oids.ClientAuth], false));
        return Sign(request, validity);
    }

    /// <summary>
    /// Creates a key and a node certificate for it, with the key. Only for a node that runs in the same process as the
    /// CA (<c>corral dev</c>); remote nodes send a CSR and keep their key (<see cref="IssueNodeCertificate"/>).
    /// </summary>
    public X509Certificate2 IssueLocalNodeIdentity(string nodeName, TimeSpan validity)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = new CertificateRequest($"CN={nodeName}", key, HashAlgorithmName.SHA256).CreateSigningRequestPem();
        using var certificate = IssueNodeCertificate(csr, nodeName, validity);
        return certificate.CopyWithPrivateKey(key);
    }

    private X509Certificate2 Sign(CertificateRequest request, TimeSpan validity)
    {
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyAgreement, true));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Certificate, true, false));
        var now = _time.GetUtcNow();
        var notAfter = now + validity;
        if (notAfter > Certificate.NotAfter)
        {
            notAfter = Certificate.NotAfter;
        }
        var serial = new byte[16];
        RandomNumberGenerator.Fill(serial);
        serial[0] &= 0x7f;
        var generator = X509SignatureGenerator.CreateForECDsa(_key);
        // Backdated for clock skew, but by at most a tenth of the validity: a node renews at a share of the
        // certificate's lifetime, which a long backdate would swallow for short-lived certificates.
        var backdate = TimeSpan.FromTicks(Math.Min(TimeSpan.FromMinutes(5).Ticks, validity.Ticks / 10));
        return request.Create(Certificate.SubjectName, generator, now - backdate, notAfter, serial);
    }

    /// <summary>True when <paramref name="certificate"/> chains to this CA (and only this CA) and is valid now.</summary>
    public bool Verifies(X509Certificate2 certificate) => ClusterTrust.Chains(Certificate, certificate, _time.GetUtcNow());

    /// <summary>Writes a file only its owner may read (mode 0600), replacing any previous content.</summary>
    public static void WritePrivate(string path, string content)
    {
        using var stream = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        using var writer = new StreamWriter(stream);
        writer.Write(content);
    }

    public void Dispose()
    {
        _key.Dispose();
        Certificate.Dispose();
    }

    private static class Oids
    {
        public static readonly Oid ServerAuth = new("1.3.6.1.5.5.7.3.1");
        public static readonly Oid ClientAuth = new("1.3.6.1.5.5.7.3.2");
    }
}
