namespace Corral.Store;

/// <summary>What a <see cref="Compare"/> looks at.</summary>
public enum CompareTarget
{
    /// <summary>The value bytes (compared as unsigned bytes, lexicographically).</summary>
    Value,

    /// <summary>The revision of the key's last write (0 when the key does not exist).</summary>
    ModRevision,

    /// <summary>The revision that created the key (0 when the key does not exist).</summary>
    CreateRevision,

    /// <summary>The number of writes since creation (0 when the key does not exist).</summary>
    Version,

    /// <summary>The lease id the key is attached to (0 for none or when the key does not exist).</summary>
    Lease,
}

/// <summary>How a <see cref="Compare"/> relates the actual to the given operand.</summary>
public enum CompareOp
{
    Equal,
    NotEqual,
    Greater,
    Less,
}

/// <summary>
/// One condition of a transaction: <c>actual(Key, Target) Op operand</c>.
/// A value compare on a key that does not exist is always false (as in etcd); numeric targets of a
/// missing key read as 0, so <see cref="Missing"/> is <c>CreateRevision == 0</c>.
/// With <see cref="WholePrefix"/>, <see cref="Key"/> is a prefix and the condition must hold for every key under it;
/// with no key under it, it is judged as for one missing key (etcd's compare with a <c>range_end</c>), so
/// <see cref="NoneUnder"/> is true exactly when no key starts with the prefix.
/// </summary>
public sealed record Compare(string Key, CompareTarget Target, CompareOp Op, long Number, ReadOnlyMemory<byte> Value)
{
    /// <summary>True when <see cref="Key"/> is a prefix and every key under it is compared. Default false.</summary>
    public bool WholePrefix { get; init; }

    public static Compare ModRevision(string key, CompareOp op, long revision) => new(key, CompareTarget.ModRevision, op, revision, default);

    public static Compare CreateRevision(string key, CompareOp op, long revision) => new(key, CompareTarget.CreateRevision, op, revision, default);

    public static Compare Version(string key, CompareOp op, long version) => new(key, CompareTarget.Version, op, version, default);

    public static Compare LeaseOf(string key, CompareOp op, long leaseId) => new(key, CompareTarget.Lease, op, leaseId, default);

    public static Compare ValueOf(string key, CompareOp op, ReadOnlyMemory<byte> value) => new(key, CompareTarget.Value, op, 0, value);

    /// <summary>True when the key exists.</summary>
    public static Compare Exists(string key) => CreateRevision(key, CompareOp.Greater, 0);

    /// <summary>True when the key does not exist.</summary>
    public static Compare Missing(string key) => CreateRevision(key, CompareOp.Equal, 0);

    /// <summary>True when no key starts with <paramref name="prefix"/>.</summary>
    public static Compare NoneUnder(string prefix) => CreateRevision(prefix, CompareOp.Equal, 0) with { WholePrefix = true };
}

/// <summary>One operation inside a transaction branch.</summary>
public abstract record TxnOp
{
    private TxnOp()
    {
    }

    /// <summary>Writes <paramref name="Value"/> at <paramref name="Key"/>, attached to <paramref name="Lease"/> (0 for none).</summary>
    public sealed record Put(string Key, ReadOnlyMemory<byte> Value, long Lease = 0) : TxnOp;

    /// <summary>Deletes one key.</summary>
    public sealed record Delete(string Key) : TxnOp;

    /// <summary>Deletes every key that starts with <paramref name="Prefix"/>.</summary>
    public sealed record DeletePrefix(string Prefix) : TxnOp;

    /// <summary>Reads one key.</summary>
    public sealed record Get(string Key) : TxnOp;

    /// <summary>Reads a prefix (at the transaction's own revision; <see cref="RangeOptions.Revision"/> must be 0).</summary>
    public sealed record Range(string Prefix, RangeOptions Options) : TxnOp;
}

/// <summary>
/// A transaction: if every compare holds, <see cref="Success"/> runs, otherwise <see cref="Failure"/>; all
/// atomically, at one revision. The same key may not be written twice in one branch.
/// </summary>
public sealed record Txn(IReadOnlyList<Compare> Compares, IReadOnlyList<TxnOp> Success, IReadOnlyList<TxnOp> Failure)
{
    public static Txn If(params Compare[] compares) => new(compares, [], []);

    public Txn Then(params TxnOp[] ops) => this with { Success = [.. Success, .. ops] };

    public Txn Else(params TxnOp[] ops) => this with { Failure = [.. Failure, .. ops] };
}

/// <summary>The result of one operation of the branch that ran, in order.</summary>
public abstract record TxnOpResult
{
    private TxnOpResult()
    {
    }

    public sealed record Put(PutResult Result) : TxnOpResult;

    public sealed record Delete(DeleteResult Result) : TxnOpResult;

    /// <summary>A <see cref="TxnOp.Get"/> (zero or one key) or <see cref="TxnOp.Range"/>.</summary>
    public sealed record Range(RangeResult Result) : TxnOpResult;
}

/// <summary>The outcome of a transaction.</summary>
/// <param name="Succeeded">True when every compare held and the success branch ran.</param>
/// <param name="Revision">
/// The revision of the transaction's writes; when the branch that ran wrote nothing, the current revision
/// (a transaction that writes nothing does not advance the revision).
/// </param>
/// <param name="Results">One result per operation of the branch that ran.</param>
public sealed record TxnResult(bool Succeeded, long Revision, IReadOnlyList<TxnOpResult> Results);
