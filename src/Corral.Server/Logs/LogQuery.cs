namespace Corral.Server.Logs;

/// <summary>What <c>GET /v1/logs</c> asks for.</summary>
/// <param name="Service">The service whose replicas' lines are wanted.</param>
/// <param name="Node">Only lines of replicas that ran on this node; null for every node.</param>
/// <param name="ReplicaId">Only this replica's lines; null for every replica.</param>
/// <param name="Since">Only lines written at or after this time; null for all kept lines.</param>
/// <param name="Tail">Only the last this many lines (before following); null for all.</param>
public sealed record LogQuery(string Service, string? Node = null, string? ReplicaId = null, DateTimeOffset? Since = null, int? Tail = null);
