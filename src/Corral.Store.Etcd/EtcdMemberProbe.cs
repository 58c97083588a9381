namespace Corral.Store.Etcd;

/// <summary>What <see cref="EtcdStore.ProbeMembersAsync"/> found.</summary>
/// <param name="Members">Every listed member with its health; when no endpoint answered, the endpoints, all unhealthy.</param>
/// <param name="ListedBy">The endpoint whose member list was used, or null when none answered.</param>
/// <param name="Revision">The highest revision a member reported, 0 when none answered.</param>
/// <param name="DbSize">The largest member database in bytes, 0 when none answered.</param>
public sealed record EtcdMemberProbe(IReadOnlyList<StoreMember> Members, string? ListedBy, long Revision, long DbSize)
{
    /// <summary>Members needed for a majority of those listed.</summary>
    public int Majority => Members.Count / 2 + 1;

    /// <summary>Members that answered healthy (with a leader, without alarms).</summary>
    public int Healthy => Members.Count(m => m.Healthy);

    /// <summary>True when a majority of the listed members answered healthy.</summary>
    public bool HasQuorum => ListedBy is not null && Healthy >= Majority;
}
