using System.Globalization;
using Corral.Core.Api;

namespace Corral.Core.Monitoring;

/// <summary>
/// The health score and the alarm rules. Pure: the same input gives the same score and conditions.
/// </summary>
/// <remarks>
/// The score starts at 100 and loses, rounded to a whole number and kept within 0–100:
/// <list type="bullet">
/// <item>everything (score 0) when the store is unreachable or has lost its majority: nothing can change;</item>
/// <item>up to 30 for nodes down: 30 × down / total;</item>
/// <item>up to 30 for services short of healthy replicas: 30 × the mean, over services with replicas desired, of
/// missing healthy / desired;</item>
/// <item>5 per crash-looping replica, at most 10;</item>
/// <item>5 per store member down, at most 10, and 10 more when one more loss would break quorum;</item>
/// <item>5 per certificate expiring within the warning, at most 10, and 20 more when one has expired;</item>
/// <item>5 per node with a full disk, at most 10.</item>
/// </list>
/// </remarks>
public static class HealthMonitor
{
    public const string NodeDown = "node.down";
    public const string NodeDiskFull = "node.disk_full";
    public const string ServiceDegraded = "service.degraded";
    public const string ReplicaCrashLoop = "replica.crash_loop";
    public const string StoreUnreachable = "store.unreachable";
    public const string StoreMemberDown = "store.member_down";
    public const string StoreQuorumAtRisk = "store.quorum_at_risk";
    public const string CertExpiring = "cert.expiring";

    public static HealthEvaluation Evaluate(MonitorInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var t = input.Thresholds;
        var conditions = new List<AlarmCondition>();
        double penalty = 0;

        // Store.
        var store = input.Store;
        var membersHealthy = store.Members.Count(m => m.Healthy);
        if (!store.Healthy)
        {
            var why = store.Reachable
                ? $"only {membersHealthy} of {store.Members.Count} store members answer; {store.Majority} are needed for a majority"
                : $"the store does not answer ({store.Error ?? "no reply"})";
            conditions.Add(new AlarmCondition(StoreUnreachable, AlarmSeverity.Critical, "store",
                $"{why}: no change can be made to the cluster. Check the store (etcd members or the server's data dir and disk) and the network to it; 'corral status' shows the members."));
            penalty += 100;
        }
        foreach (var member in store.Members.Where(m => !m.Healthy).OrderBy(m => m.Name, StringComparer.Ordinal))
        {
            conditions.Add(new AlarmCondition(StoreMemberDown, AlarmSeverity.Warning, "store/" + member.Name,
                $"store member {member.Name} does not answer{(member.Error is null ? "" : $" ({member.Error})")}: restart it or replace it; until then the store tolerates fewer failures."));
        }
        var membersDown = store.Members.Count - membersHealthy;
        penalty += Math.Min(10, 5 * membersDown);
        if (store.Healthy && store.Members.Count > 1 && store.QuorumMargin == 0)
        {
            conditions.Add(new AlarmCondition(StoreQuorumAtRisk, AlarmSeverity.Critical, "store",
                $"{membersHealthy} of {store.Members.Count} store members answer and {store.Majority} are needed: one more loss stops the cluster. Bring the down members back first, before any maintenance."));
            penalty += 10;
        }

        // Nodes.
        var nodesReady = input.Nodes.Count(n => n.Ready);
        if (input.Nodes.Count > 0)
        {
            penalty += 30.0 * (input.Nodes.Count - nodesReady) / input.Nodes.Count;
        }
        var disksFull = 0;
        foreach (var node in input.Nodes.OrderBy(n => n.Name, StringComparer.Ordinal))
        {
            if (!node.Ready)
            {
                conditions.Add(new AlarmCondition(NodeDown, AlarmSeverity.Critical, "node/" + node.Name,
                    $"node {node.Name} has sent no heartbeat since {Stamp(node.StatusSince)}: check the machine and its 'corral agent' (is it running, can it reach a server?). Its replicas are replaced after their eviction_timeout; if the node is gone for good, remove it with 'corral node rm {node.Name}'."));
                continue;
            }
            if (node is { DiskUsedBytes: { } used, DiskTotalBytes: { } total } && total > 0)
            {
                var percent = 100.0 * used / total;
                if (percent > t.DiskThresholdPercent)
                {
                    disksFull++;
                    conditions.Add(new AlarmCondition(NodeDiskFull, AlarmSeverity.Warning, "node/" + node.Name,
                        $"node {node.Name}'s data file system is {Math.Floor(percent).ToString(CultureInfo.InvariantCulture)}% used (threshold {t.DiskThresholdPercent.ToString(CultureInfo.InvariantCulture)}%; {ByteSizes.Format(total - used)} free): free space (old logs, images) or grow the disk before tasks and logs fail to write."));
                }
            }
        }
        penalty += Math.Min(10, 5 * disksFull);

        // Services.
        var atDesired = 0;
        double shortfall = 0;
        var counted = 0;
        foreach (var service in input.Services.OrderBy(s => s.Name, StringComparer.Ordinal))
        {
            if (service.Healthy >= service.Desired)
            {
                atDesired++;
            }
            if (service.Desired <= 0)
            {
                continue;
            }
            counted++;
            var missing = service.Desired - Math.Min(service.Healthy, service.Desired);
            shortfall += (double)missing / service.Desired;
            if (missing > 0)
            {
                conditions.Add(new AlarmCondition(ServiceDegraded, service.Healthy == 0 ? AlarmSeverity.Critical : AlarmSeverity.Warning, "service/" + service.Name,
                    $"service {service.Name} has {service.Healthy} of {service.Desired} desired replicas healthy: see 'corral svc show {service.Name}' for each replica's state and reason, and its logs; check that enough nodes are ready and fit its placement and resources.",
                    t.DegradedAfter));
            }
        }
        if (counted > 0)
        {
            penalty += 30 * shortfall / counted;
        }

        // Replicas.
        var crashLooping = 0;
        foreach (var replica in input.Replicas.Where(r => r.RestartsInWindow >= t.CrashLoopRestarts).OrderBy(r => r.ReplicaId, StringComparer.Ordinal))
        {
            crashLooping++;
            conditions.Add(new AlarmCondition(ReplicaCrashLoop, AlarmSeverity.Warning, "replica/" + replica.ReplicaId,
                $"replica {replica.ReplicaId} of service {replica.Service} on node {replica.Node} was restarted {replica.RestartsInWindow} times recently: read its logs ('corral logs {replica.Service}') and fix the command, its config or what it depends on; past its restart policy it fails."));
        }
        penalty += Math.Min(10, 5 * crashLooping);

        // Certificates.
        var expiring = 0;
        var expired = false;
        foreach (var certificate in input.Certificates.OrderBy(c => c.Subject, StringComparer.Ordinal))
        {
            var left = certificate.NotAfter - input.Now;
            if (left > t.CertExpiryWarning)
            {
                continue;
            }
            expiring++;
            if (left <= TimeSpan.Zero)
            {
                expired = true;
                conditions.Add(new AlarmCondition(CertExpiring, AlarmSeverity.Critical, certificate.Subject,
                    $"{certificate.Description} expired at {Stamp(certificate.NotAfter)}: connections that need it fail. {certificate.Renew}"));
            }
            else
            {
                conditions.Add(new AlarmCondition(CertExpiring, AlarmSeverity.Warning, certificate.Subject,
                    $"{certificate.Description} expires at {Stamp(certificate.NotAfter)} (within {Durations.Format(t.CertExpiryWarning)}): {certificate.Renew}"));
            }
        }
        penalty += Math.Min(10, 5 * expiring) + (expired ? 20 : 0);

        var score = (int)Math.Clamp(Math.Round(100 - penalty, MidpointRounding.AwayFromZero), 0, 100);
        var inputs = new HealthInputs(
            nodesReady,
            input.Nodes.Count,
            atDesired,
            input.Services.Count,
            crashLooping,
            store.Healthy,
            store.Members.Count,
            membersHealthy,
            store.Members.Count == 0 ? -1 : store.QuorumMargin,
            expiring,
            disksFull);
        return new HealthEvaluation(score, inputs, conditions);
    }

    private static string Stamp(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
