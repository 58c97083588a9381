namespace Corral.Core.Monitoring;

/// <summary>Everything the health score and the alarm rules look at, read at one moment. Immutable.</summary>
public sealed record MonitorInput(
    DateTimeOffset Now,
    IReadOnlyList<NodeHealth> Nodes,
    IReadOnlyList<ServiceHealth> Services,
    IReadOnlyList<ReplicaRestarts> Replicas,
    StoreHealth Store,
    IReadOnlyList<CertificateHealth> Certificates,
    MonitorThresholds Thresholds);
