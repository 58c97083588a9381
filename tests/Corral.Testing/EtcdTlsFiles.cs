using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Corral.Testing;

/// <summary>
/// PEM files for running etcd with TLS in tests: a throw-away CA (EC P-256), a server certificate for 127.0.0.1 and
/// localhost, and a client certificate, all signed by the CA.
/// </summary>
/// <param name="CaFile">The CA certificate.</param>
/// <param name="ServerCertFile">The server certificate.</param>
/// <param name="ServerKeyFile">The server's private key (PKCS#8).</param>
/// <param name="ClientCertFile">The client certificate.</param>
/// <param name="ClientKeyFile">The client's private key (PKCS#8).</param>
public sealed record EtcdTlsFiles(string CaFile, string ServerCertFile, string ServerKeyFile, string ClientCertFile, string ClientKeyFile)
{
    /// <summary>Creates a CA, a server and a client certificate as PEM files in <paramref name="directory"/>.</summary>
    public static EtcdTlsFiles Create(string directory)
    {
        Directory.CreateDirectory(directory);
        var now = DateTimeOffset.UtcNow;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=corral-test-ca", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var ca = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));

        var files = new EtcdTlsFiles(
            Path.Combine(directory, "ca.pem"),
            Path.Combine(directory, "server.pem"),
            Path.Combine(directory, "server-key.pem"),
            Path.Combine(directory, "client.pem"),
            Path.Combine(directory, "client-key.pem"));
        File.WriteAllText(files.CaFile, ca.ExportCertificatePem());
        Issue(ca, "CN=127.0.0.1", server: true, files.ServerCertFile, files.ServerKeyFile, now);
        Issue(ca, "CN=root", server: false, files.ClientCertFile, files.ClientKeyFile, now);
        return files;
    }

    private static void Issue(X509Certificate2 ca, string subject, bool server, string certFile, string keyFile, DateTimeOffset now)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        // etcd checks the extended key usage of both ends; give both usages, as etcd's own examples do.
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        if (server)
        {
            var san = new SubjectAlternativeNameBuilder();
            san.AddIpAddress(IPAddress.Loopback);
            san.AddDnsName("localhost");
            request.CertificateExtensions.Add(san.Build());
        }
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        using var certificate = request.Create(ca, now.AddMinutes(-5), now.AddDays(1), serial);
        File.WriteAllText(certFile, certificate.ExportCertificatePem());
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
    }
}
