using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Corral.Core.Security;
using Corral.Server.Security;
using Corral.Testing;

namespace Corral.Server.Tests.Security;

public class CertificateAuthorityTests
{
    private readonly ManualTimeProvider _time = new(DateTimeOffset.UtcNow);

    [Fact]
    public void IssueServerCertificate_ChainsToTheCa_WithNamesAndKey()
    {
        using var ca = CertificateAuthority.Create("test", _time);

        using var server = ca.IssueServerCertificate("s1", ["localhost"], [IPAddress.Loopback], TimeSpan.FromDays(365));

        Assert.True(server.HasPrivateKey);
        Assert.True(ca.Verifies(server));
        var san = server.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.Contains("localhost", san.EnumerateDnsNames());
        Assert.Contains(IPAddress.Loopback, san.EnumerateIPAddresses());
    }

    [Fact]
    public void IssueNodeCertificate_UsesTheCaChosenNameNotTheCsrs()
    {
        using var ca = CertificateAuthority.Create("test", _time);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = new CertificateRequest("CN=admin-please", key, HashAlgorithmName.SHA256).CreateSigningRequestPem();

        using var node = ca.IssueNodeCertificate(csr, "point-b", TimeSpan.FromDays(30));

        Assert.Equal("point-b", node.GetNameInfo(X509NameType.SimpleName, false));
        Assert.True(ca.Verifies(node));
    }

    [Fact]
    public void Verifies_CertificateFromAnotherCa_IsFalse()
    {
        using var ours = CertificateAuthority.Create("ours", _time);
        using var theirs = CertificateAuthority.Create("theirs", _time);
        using var foreign = theirs.IssueServerCertificate("x", ["localhost"], [], TimeSpan.FromDays(1));

        Assert.False(ours.Verifies(foreign));
    }

    [Fact]
    public void Verifies_ExpiredCertificate_IsFalse()
    {
        using var ca = CertificateAuthority.Create("test", _time);
        using var server = ca.IssueServerCertificate("s1", ["localhost"], [], TimeSpan.FromDays(1));

        _time.Advance(TimeSpan.FromDays(2));

        Assert.False(ca.Verifies(server));
    }

    [Fact]
    public void SaveLoad_RoundTrips_KeyFileIsPrivate()
    {
        using var dir = new TempDirectory();
        using var ca = CertificateAuthority.Create("test", _time);
        ca.Save(dir.Combine("ca.crt"), dir.Combine("ca.key"));

        using var loaded = CertificateAuthority.Load(dir.Combine("ca.crt"), dir.Combine("ca.key"), _time);
        using var server = loaded.IssueServerCertificate("s1", ["localhost"], [], TimeSpan.FromDays(1));

        Assert.Equal(ca.Pin, loaded.Pin);
        Assert.True(ca.Verifies(server));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(dir.Combine("ca.key")));
    }

    [Fact]
    public void Pin_MatchesOnlyItsOwnCa()
    {
        using var a = CertificateAuthority.Create("a", _time);
        using var b = CertificateAuthority.Create("b", _time);

        Assert.StartsWith("sha256:", a.Pin, StringComparison.Ordinal);
        Assert.True(CaPin.Matches(a.Certificate, a.Pin));
        Assert.False(CaPin.Matches(a.Certificate, b.Pin));
    }
}
