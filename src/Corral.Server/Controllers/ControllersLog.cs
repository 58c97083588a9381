using Microsoft.Extensions.Logging;

namespace Corral.Server.Controllers;

/// <summary>Log messages of the leader-only controllers (event ids 4600–4699).</summary>
internal static partial class ControllersLog
{
    [LoggerMessage(EventId = 4600, Level = LogLevel.Debug, Message = "Reconcile at revision {Revision}: {Placed} placed, {Pending} pending, {Stopping} stopping, {Deleted} deleted, {Lost} lost in {Committed}/{Transactions} transactions")]
    public static partial void Reconciled(ILogger logger, long revision, int placed, int pending, int stopping, int deleted, int lost, int committed, int transactions);

    [LoggerMessage(EventId = 4601, Level = LogLevel.Information, Message = "Reconcile plan from revision {Revision} went stale after {Committed} of {Transactions} transactions; planning again")]
    public static partial void StalePlan(ILogger logger, long revision, int committed, int transactions);

    [LoggerMessage(EventId = 4602, Level = LogLevel.Warning, Message = "Reconcile plan from revision {Revision} refused: this server no longer holds the leadership it planned under")]
    public static partial void PlanRefusedNotLeader(ILogger logger, long revision);

    [LoggerMessage(EventId = 4603, Level = LogLevel.Warning, Message = "Store watch for {Controller} failed; watching again from the current revision")]
    public static partial void WatchFailed(ILogger logger, string controller, Exception exception);

    [LoggerMessage(EventId = 4604, Level = LogLevel.Warning, Message = "Node {Node} is down: no heartbeat for {Silence}")]
    public static partial void NodeDown(ILogger logger, string node, TimeSpan silence);

    [LoggerMessage(EventId = 4605, Level = LogLevel.Information, Message = "Node {Node} is up again")]
    public static partial void NodeUp(ILogger logger, string node);

    [LoggerMessage(EventId = 4611, Level = LogLevel.Information, Message = "Node {Node} not marked down after {Silence} without a heartbeat seen here: its record changed, or a server still holds its liveness key (vouching for a recent heartbeat); checking again")]
    public static partial void NodeDownRefused(ILogger logger, string node, TimeSpan silence);

    [LoggerMessage(EventId = 4606, Level = LogLevel.Warning, Message = "Reconcile pass failed; trying again at the next wake-up")]
    public static partial void PassFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 4607, Level = LogLevel.Warning, Message = "Liveness relay could not reach the store; retrying")]
    public static partial void RelayFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 4608, Level = LogLevel.Debug, Message = "Liveness relay: {Node} now heartbeats to this server ({Live})")]
    public static partial void RelayChanged(ILogger logger, string node, bool live);

    [LoggerMessage(EventId = 4609, Level = LogLevel.Warning, Message = "Ignored the node digest at {Key} ({Bytes} bytes): it is not a gzipped node digest: {Error}. Reported once until that server stores a readable one")]
    public static partial void DigestUnreadable(ILogger logger, string key, int bytes, string error);

    [LoggerMessage(EventId = 4610, Level = LogLevel.Information, Message = "Server {Server}'s node digest is gone (it stopped, or its lease expired): its nodes' stats and replica reports are no longer relayed from it")]
    public static partial void DigestGone(ILogger logger, string server);

    [LoggerMessage(EventId = 4620, Level = LogLevel.Information, Message = "Event retention deleted {ByAge} events older than the age limit and {ByCount} beyond the count limit; about {Kept} kept")]
    public static partial void EventsPruned(ILogger logger, int byAge, int byCount, long kept);

    [LoggerMessage(EventId = 4621, Level = LogLevel.Warning, Message = "Event retention pass failed; trying again at the next interval")]
    public static partial void EventRetentionFailed(ILogger logger, Exception exception);
}
