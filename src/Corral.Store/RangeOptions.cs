namespace Corral.Store;

/// <summary>Options of a prefix range read.</summary>
public sealed record RangeOptions
{
    /// <value>At most this many keys are returned (in key order); 0 means no limit. Default 0.</value>
    public long Limit { get; init; }

    /// <value>
    /// Read the keys as they were at this revision (a consistent snapshot read); 0 means the current revision.
    /// A revision older than the compacted revision throws <see cref="StoreCompactedException"/>; one newer than
    /// the current revision throws <see cref="StoreException"/>. Default 0.
    /// </value>
    public long Revision { get; init; }

    /// <value>Return keys and metadata without values. Default false.</value>
    public bool KeysOnly { get; init; }

    /// <value>
    /// Return only keys strictly greater than this one (for paging through a large prefix with a fixed
    /// <see cref="Revision"/>); null starts at the prefix. Default null.
    /// </value>
    public string? After { get; init; }

    /// <value>
    /// Return only keys strictly less than this one (with <see cref="Descending"/>, for paging backwards from the end of a
    /// prefix); null ends at the end of the prefix. Default null.
    /// </value>
    public string? Before { get; init; }

    /// <value>
    /// Return the keys in descending key order, so that with <see cref="Limit"/> the result holds the greatest keys of the
    /// range (etcd sorts the whole range on the server to do so; SQLite walks its key index backwards). Default false.
    /// </value>
    public bool Descending { get; init; }

    public static RangeOptions Default { get; } = new();
}
