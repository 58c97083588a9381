using Microsoft.Extensions.Logging;

namespace Corral.Cli;

/// <summary>
/// Log messages of the long-running commands themselves (<c>corral agent</c>, <c>corral dev</c>), beside those of the
/// components they host: EventIds 6300–6399.
/// </summary>
internal static partial class HostLog
{
    [LoggerMessage(EventId = 6300, Level = LogLevel.Information, Message = "Join: {Message}")]
    public static partial void JoinProgress(ILogger logger, string message);

    [LoggerMessage(EventId = 6301, Level = LogLevel.Information, Message = "Node certificate renewed (serial {Serial}, valid until {NotAfter:u}); stored in {Directory}")]
    public static partial void CertificateRenewed(ILogger logger, string serial, DateTime notAfter, string directory);

    [LoggerMessage(EventId = 6302, Level = LogLevel.Warning, Message = "Keeping the current tasks: the tasks file {Path} cannot be used: {Error}")]
    public static partial void TasksFileRejected(ILogger logger, string path, string error);

    [LoggerMessage(EventId = 6303, Level = LogLevel.Information, Message = "Tasks file {Path} changed: applying it")]
    public static partial void TasksFileReloading(ILogger logger, string path);
}
