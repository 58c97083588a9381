namespace Corral.Core.Api;

/// <summary>What the health score was computed from (see docs/alarms.md, "Health score").</summary>
/// <param name="NodesReady">Nodes with status ready.</param>
/// <param name="NodesTotal">All registered nodes.</param>
/// <param name="ServicesAtDesired">Services with at least their desired number of healthy replicas.</param>
/// <param name="ServicesTotal">All services.</param>
/// <param name="ReplicasCrashLooping">Replicas restarted at least <c>crash_loop_restarts</c> times within <c>crash_loop_window</c>.</param>
/// <param name="StoreHealthy">The store answered and has a majority of healthy members.</param>
/// <param name="StoreMembers">Store members (1 for SQLite).</param>
/// <param name="StoreMembersHealthy">Store members that answered.</param>
/// <param name="StoreQuorumMargin">Healthy members above the majority: how many more may fail before quorum is lost (negative: lost).</param>
/// <param name="CertificatesExpiring">CA, server and node certificates that expire within <c>cert_expiry_warning</c> (or have expired).</param>
/// <param name="NodesDiskFull">Nodes whose data-dir file system is used above <c>disk_threshold_percent</c>.</param>
public sealed record HealthInputs(
    int NodesReady,
    int NodesTotal,
    int ServicesAtDesired,
    int ServicesTotal,
    int ReplicasCrashLooping,
    bool StoreHealthy,
    int StoreMembers,
    int StoreMembersHealthy,
    int StoreQuorumMargin,
    int CertificatesExpiring,
    int NodesDiskFull);
