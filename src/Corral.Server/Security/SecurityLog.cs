using Microsoft.Extensions.Logging;

namespace Corral.Server.Security;

/// <summary>Log messages of node certificates: issue, renewal, revocation (event ids 4900–4949).</summary>
internal static partial class SecurityLog
{
    [LoggerMessage(EventId = 4900, Level = LogLevel.Warning, Message = "Watch of revoked certificates failed; loading again")]
    public static partial void RevocationWatchFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 4901, Level = LogLevel.Information, Message = "Node {Node} renewed its certificate: serial {Serial}, valid until {NotAfter}")]
    public static partial void CertificateRenewed(ILogger logger, string node, string serial, DateTimeOffset notAfter);

    [LoggerMessage(EventId = 4902, Level = LogLevel.Warning, Message = "Node {Node} presented revoked certificate {Serial}")]
    public static partial void RevokedCertificatePresented(ILogger logger, string node, string serial);
}
