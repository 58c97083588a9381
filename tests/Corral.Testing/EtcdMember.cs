namespace Corral.Testing;

/// <summary>One member of an <see cref="EtcdCluster"/>: its name, URLs and data directory (stable across restarts).</summary>
/// <param name="Index">Position in the cluster, 0-based.</param>
/// <param name="Name">The etcd member name (<c>m0</c>, <c>m1</c>, ...).</param>
/// <param name="ClientUrl">The client URL (<c>http://127.0.0.1:port</c>).</param>
/// <param name="PeerUrl">The peer URL.</param>
/// <param name="MetricsUrl">The metrics URL (off the client port).</param>
/// <param name="DataDir">The data directory.</param>
public sealed record EtcdMember(int Index, string Name, string ClientUrl, string PeerUrl, string MetricsUrl, string DataDir);
