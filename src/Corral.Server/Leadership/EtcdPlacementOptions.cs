namespace Corral.Server.Leadership;

/// <summary>How <see cref="EtcdLeaderPlacement"/> finds this server's etcd member and how often it looks. Validate with <see cref="Validate"/>.</summary>
public sealed record EtcdPlacementOptions
{
    /// <value>
    /// The name of the etcd member that runs beside this server (a managed member is named like its server); null for
    /// an external etcd: the local member is then the one whose client URL's host is one of this machine's addresses,
    /// and there is none when no member's, or several members', are. Default null.
    /// </value>
    public string? LocalMemberName { get; init; }

    /// <value>How often the leader checks where the etcd leader is (two small etcd calls). 500 ms to 5 min. Default 3 s.</value>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(3);

    /// <value>
    /// A member whose applied raft index is more than this behind the leader's last index is not caught up and is not
    /// given leadership. Default 1000 entries.
    /// </value>
    public ulong MaxLag { get; init; } = 1000;

    /// <summary>Every problem with these options, each naming its field; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (LocalMemberName is { Length: 0 })
        {
            errors.Add("LocalMemberName must not be empty (null means: find it by this machine's addresses)");
        }
        if (Interval < TimeSpan.FromMilliseconds(500) || Interval > TimeSpan.FromMinutes(5))
        {
            errors.Add($"Interval {Interval.TotalMilliseconds} ms must be from 500 ms to 5 min");
        }
        return errors;
    }

    /// <summary>Throws <see cref="ArgumentException"/> listing every problem when these options are not valid.</summary>
    public void ThrowIfInvalid()
    {
        var errors = Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("invalid EtcdPlacementOptions: " + string.Join("; ", errors), "options");
        }
    }
}
