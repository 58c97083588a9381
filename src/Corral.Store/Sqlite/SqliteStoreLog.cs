using Microsoft.Extensions.Logging;

namespace Corral.Store.Sqlite;

/// <summary>Log messages of the SQLite store (event ids 2100–2199).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 2100, Level = LogLevel.Information, Message = "Opened store database {Path} at revision {Revision} (synchronous={Synchronous})")]
    public static partial void Opened(ILogger logger, string path, long revision, string synchronous);

    [LoggerMessage(EventId = 2101, Level = LogLevel.Information, Message = "Closed store database {Path}")]
    public static partial void Closed(ILogger logger, string path);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Warning, Message = "Store database {Path}: {Count} leases had expired while the store was closed; their keys were deleted")]
    public static partial void LeasesExpiredOnOpen(ILogger logger, string path, int count);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Debug, Message = "Lease {LeaseId} expired; {Keys} keys deleted")]
    public static partial void LeaseExpired(ILogger logger, long leaseId, int keys);

    [LoggerMessage(EventId = 2104, Level = LogLevel.Error, Message = "Store database {Path}: a batch of {Count} writes failed and was rolled back")]
    public static partial void WriteFailed(ILogger logger, string path, int count, Exception exception);

    [LoggerMessage(EventId = 2105, Level = LogLevel.Error, Message = "Store database {Path}: could not schedule the lease sweeper; retrying in 1 s")]
    public static partial void SweepFailed(ILogger logger, string path, Exception exception);
}
