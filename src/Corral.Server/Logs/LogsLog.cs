using Microsoft.Extensions.Logging;

namespace Corral.Server.Logs;

internal static partial class LogsLog
{
    [LoggerMessage(EventId = 4850, Level = LogLevel.Information, Message = "Log retention deleted {Chunks} chunks ({Bytes} bytes); {Kept} chunks ({KeptBytes} bytes) kept")]
    public static partial void Pruned(ILogger logger, int chunks, long bytes, int kept, long keptBytes);

    [LoggerMessage(EventId = 4851, Level = LogLevel.Warning, Message = "Log retention pass failed; trying again at the next interval")]
    public static partial void PassFailed(ILogger logger, Exception exception);
}
