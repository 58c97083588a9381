namespace Corral.Core.Api;

/// <summary>One member of the store as <c>GET /v1/status</c> shows it (an etcd member, or the SQLite file).</summary>
/// <param name="Name">Member name.</param>
/// <param name="Endpoint">Client URL (or file).</param>
/// <param name="Healthy">Whether it answered and has a leader.</param>
/// <param name="IsLeader">Whether it is the store's own (raft) leader.</param>
/// <param name="Error">Why it is not healthy.</param>
public sealed record StoreMemberView(string Name, string Endpoint, bool Healthy, bool IsLeader, string? Error);
