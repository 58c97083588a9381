using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Corral.Agent.ControlPlane;
using Corral.Server.Security;
using Corral.Testing;

namespace Corral.Agent.Tests.ControlPlane;

public sealed class CertificateRenewalTests : IDisposable
{
    private readonly ManualTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly CertificateAuthority _ca;
    private readonly TempDirectory _dir = new("corral-renewal");

    public CertificateRenewalTests() => _ca = CertificateAuthority.Create("renewal-tests", _time);

    [Fact]
    public void DueAt_TwoThirds_IsTwoThirdsIntoTheValidityFromNotBefore()
    {
        var (key, csr) = CertificateRenewal.NewRequest("n1");
        using (key)
        using (var certificate = _ca.IssueNodeCertificate(csr, "n1", TimeSpan.FromHours(30)))
        {
            var notBefore = new DateTimeOffset(certificate.NotBefore.ToUniversalTime());
            var notAfter = new DateTimeOffset(certificate.NotAfter.ToUniversalTime());
            Assert.Equal(_time.GetUtcNow() + TimeSpan.FromHours(30), notAfter);
            // Backdated by at most a tenth of the validity, so renewal stays well before expiry.
            Assert.Equal(_time.GetUtcNow() - TimeSpan.FromMinutes(5), notBefore);
            Assert.Equal(notBefore + (notAfter - notBefore) * 2 / 3, CertificateRenewal.DueAt(certificate, 2.0 / 3.0));
        }
    }

    [Fact]
    public void Sign_ShortValidity_BackdatesByATenthOnly()
    {
        var (key, csr) = CertificateRenewal.NewRequest("n1");
        using (key)
        using (var certificate = _ca.IssueNodeCertificate(csr, "n1", TimeSpan.FromSeconds(30)))
        {
            Assert.Equal(_time.GetUtcNow() - TimeSpan.FromSeconds(3), new DateTimeOffset(certificate.NotBefore.ToUniversalTime()));
            Assert.True(CertificateRenewal.DueAt(certificate, 2.0 / 3.0) > _time.GetUtcNow());
        }
    }

    [Fact]
    public void Accept_IssuedForTheKeyAndNode_ReturnsItWithTheKey()
    {
        var (key, csr) = CertificateRenewal.NewRequest("n1");
        using (key)
        using (var issued = _ca.IssueNodeCertificate(csr, "n1", TimeSpan.FromDays(1)))
        using (var accepted = CertificateRenewal.Accept(issued.ExportCertificatePem(), key, _ca.Certificate, "n1", _time.GetUtcNow()))
        {
            Assert.True(accepted.HasPrivateKey);
            Assert.Equal(issued.SerialNumber, accepted.SerialNumber);
        }
    }

    [Fact]
    public void Accept_WrongKeyNodeOrCa_IsRefusedSayingWhy()
    {
        var (key, csr) = CertificateRenewal.NewRequest("n1");
        var (otherKey, _) = CertificateRenewal.NewRequest("n1");
        using var other = CertificateAuthority.Create("another", _time);
        using (key)
        using (otherKey)
        using (var issued = _ca.IssueNodeCertificate(csr, "n1", TimeSpan.FromDays(1)))
        using (var foreign = other.IssueNodeCertificate(csr, "n1", TimeSpan.FromDays(1)))
        {
            var pem = issued.ExportCertificatePem();
            Assert.Contains("not for the key", Assert.Throws<InvalidDataException>(() => CertificateRenewal.Accept(pem, otherKey, _ca.Certificate, "n1", _time.GetUtcNow())).Message, StringComparison.Ordinal);
            Assert.Contains("names node 'n1', not 'n2'", Assert.Throws<InvalidDataException>(() => CertificateRenewal.Accept(pem, key, _ca.Certificate, "n2", _time.GetUtcNow())).Message, StringComparison.Ordinal);
            Assert.Contains("cluster CA", Assert.Throws<InvalidDataException>(() => CertificateRenewal.Accept(foreign.ExportCertificatePem(), key, _ca.Certificate, "n1", _time.GetUtcNow())).Message, StringComparison.Ordinal);
            Assert.Contains("cluster CA", Assert.Throws<InvalidDataException>(() => CertificateRenewal.Accept(pem, key, _ca.Certificate, "n1", _time.GetUtcNow() + TimeSpan.FromDays(2))).Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void ReplaceCertificate_StoresTheNewPairAndLoadFinishesAnInterruptedReplacement()
    {
        var (key, csr) = CertificateRenewal.NewRequest("n1");
        using var first = _ca.IssueNodeCertificate(csr, "n1", TimeSpan.FromDays(1));
        var identity = new NodeIdentity("n1", [new Uri("https://127.0.0.1:7700")], first.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem(), _ca.Certificate.ExportCertificatePem(), new Dictionary<string, string>());
        identity.Save(_dir.Path);

        var (newKey, newCsr) = CertificateRenewal.NewRequest("n1");
        using var second = _ca.IssueNodeCertificate(newCsr, "n1", TimeSpan.FromDays(1));
        NodeIdentity.ReplaceCertificate(_dir.Path, second.ExportCertificatePem(), newKey.ExportPkcs8PrivateKeyPem());
        var loaded = NodeIdentity.Load(_dir.Path);
        using (var certificate = loaded.ClientCertificate())
        {
            Assert.Equal(second.SerialNumber, certificate.SerialNumber);
        }
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(NodeIdentity.DirectoryOf(_dir.Path), "node.key")));
        Assert.False(Directory.Exists(Path.Combine(NodeIdentity.DirectoryOf(_dir.Path), "next")));

        // A crash after the key moved but before the certificate did: the complete pair in next/ wins on load.
        var (thirdKey, thirdCsr) = CertificateRenewal.NewRequest("n1");
        using var third = _ca.IssueNodeCertificate(thirdCsr, "n1", TimeSpan.FromDays(1));
        var next = Path.Combine(NodeIdentity.DirectoryOf(_dir.Path), "next");
        Directory.CreateDirectory(next);
        File.WriteAllText(Path.Combine(next, "node.crt"), third.ExportCertificatePem());
        File.WriteAllText(Path.Combine(NodeIdentity.DirectoryOf(_dir.Path), "node.key"), thirdKey.ExportPkcs8PrivateKeyPem());
        using (var certificate = NodeIdentity.Load(_dir.Path).ClientCertificate())
        {
            Assert.Equal(third.SerialNumber, certificate.SerialNumber);
            Assert.True(certificate.HasPrivateKey);
        }
        key.Dispose();
        newKey.Dispose();
        thirdKey.Dispose();
    }

    public void Dispose()
    {
        _ca.Dispose();
        _dir.Dispose();
    }
}
