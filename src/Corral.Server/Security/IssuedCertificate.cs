namespace Corral.Server.Security;

/// <summary>One client certificate the CA issued to a node (at join or renewal), as stored under the node's record.</summary>
/// <param name="Serial">The certificate's serial number, upper-case hex as <c>X509Certificate2.SerialNumber</c> gives it.</param>
public sealed record IssuedCertificate(string Serial, DateTimeOffset IssuedAt, DateTimeOffset NotAfter);
