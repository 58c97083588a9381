using Microsoft.Extensions.Logging;

namespace Corral.Store.Etcd;

/// <summary>Log messages of <see cref="EtcdStore"/> (event ids 2100–2199).</summary>
internal static partial class EtcdStoreLog
{
    [LoggerMessage(EventId = 2100, Level = LogLevel.Warning, Message = "etcd endpoint {Endpoint} failed ({Error}); failing over to {Next}")]
    public static partial void FailedOver(ILogger logger, string endpoint, string error, string next);

    [LoggerMessage(EventId = 2101, Level = LogLevel.Information, Message = "watch of '{Prefix}' resumed from revision {Revision} on {Endpoint}")]
    public static partial void WatchResumed(ILogger logger, string prefix, long revision, string endpoint);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Information, Message = "authenticated to etcd as {User}")]
    public static partial void Authenticated(ILogger logger, string user);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Debug, Message = "lease keep-alive stream to {Endpoint} ended: {Error}")]
    public static partial void KeepAliveStreamEnded(ILogger logger, string endpoint, string error);

    [LoggerMessage(EventId = 2110, Level = LogLevel.Information, Message = "etcd endpoints now {Endpoints} (were {Before})")]
    public static partial void EndpointsChanged(ILogger logger, string endpoints, string before);

    [LoggerMessage(EventId = 2104, Level = LogLevel.Information, Message = "etcd endpoint {Preferred} answers again: calls go back to it from {Current}")]
    public static partial void FailedBack(ILogger logger, string current, string preferred);
}
