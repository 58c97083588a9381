namespace Corral.Store;

/// <summary>A store member (an etcd member, or the one SQLite file).</summary>
/// <param name="Name">Member name.</param>
/// <param name="Endpoint">Client URL or file path.</param>
/// <param name="Healthy">Whether it answered the status request.</param>
/// <param name="IsLeader">Whether it is the store's own (raft) leader.</param>
/// <param name="Error">Why it is not healthy, when it is not.</param>
public sealed record StoreMember(string Name, string Endpoint, bool Healthy, bool IsLeader, string? Error);

/// <summary>Health and shape of the store, for <c>corral status</c> and the monitor.</summary>
/// <param name="Kind"><c>sqlite</c> or <c>etcd</c>.</param>
/// <param name="Revision">The current revision.</param>
/// <param name="CompactedRevision">Revisions at or below this are no longer available to watches and past reads.</param>
/// <param name="Members">The members, healthy or not.</param>
/// <param name="DbSizeBytes">Size of the backing database.</param>
public sealed record StoreStatus(string Kind, long Revision, long CompactedRevision, IReadOnlyList<StoreMember> Members, long DbSizeBytes)
{
    /// <summary>Members needed for a majority.</summary>
    public int Majority => Members.Count / 2 + 1;

    /// <summary>Members that may fail without losing the majority.</summary>
    public int FaultTolerance => Math.Max(0, (Members.Count - 1) / 2);

    /// <summary>True when a majority of members is healthy.</summary>
    public bool HasQuorum => Members.Count(m => m.Healthy) >= Majority;
}
