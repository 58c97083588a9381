using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Corral.Core.Security;

/// <summary>
/// The pin of a cluster CA: <c>sha256:</c> and the hex SHA-256 of the CA certificate's SubjectPublicKeyInfo (as kubeadm's
/// discovery hash). A joining node checks the server's CA against it before trusting anything the server says.
/// </summary>
public static class CaPin
{
    public const string Prefix = "sha256:";

    public static string Of(X509Certificate2 ca)
    {
        ArgumentNullException.ThrowIfNull(ca);
        var spki = ca.PublicKey.ExportSubjectPublicKeyInfo();
        return Prefix + Convert.ToHexStringLower(SHA256.HashData(spki));
    }

    /// <summary>True when <paramref name="ca"/> has the pin <paramref name="pin"/> (compared in constant time).</summary>
    public static bool Matches(X509Certificate2 ca, string pin)
    {
        ArgumentNullException.ThrowIfNull(pin);
        var actual = System.Text.Encoding.ASCII.GetBytes(Of(ca));
        var expected = System.Text.Encoding.ASCII.GetBytes(pin.Trim().ToLowerInvariant());
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }
}
