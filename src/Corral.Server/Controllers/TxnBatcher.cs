using Corral.Store;

namespace Corral.Server.Controllers;

/// <summary>
/// Packs independent changes, each with the compares it depends on, into transactions that each stay within
/// <see cref="MaxOps"/> compares and <see cref="MaxOps"/> operations, so every transaction is valid on its own and
/// any prefix of them can be committed.
/// </summary>
internal sealed class TxnBatcher
{
    /// <summary>etcd's default <c>--max-txn-ops</c>: the limit for a transaction's compares and for each of its branches.</summary>
    public const int MaxOps = 128;

    private readonly Compare? _guard;
    private readonly Func<TxnOp>? _failureRead;
    private readonly List<Txn> _done = [];
    private readonly List<Compare> _compares = [];
    private readonly HashSet<string> _compared = new(StringComparer.Ordinal);
    private readonly List<TxnOp> _ops = [];

    /// <param name="guard">A compare every transaction carries (the leader's <see cref="Leadership.LeadershipTerm.StillLeading"/>), or null.</param>
    /// <param name="failureRead">A read put in every transaction's failure branch, to tell why a compare failed; or null.</param>
    public TxnBatcher(Compare? guard, Func<TxnOp>? failureRead = null)
    {
        _guard = guard;
        _failureRead = failureRead;
        Reset();
    }

    /// <summary>The number of changes added so far.</summary>
    public int Changes { get; private set; }

    /// <summary>
    /// Adds one change: its compares (a key already compared in the current transaction is not compared twice; the
    /// caller must compare a key the same way everywhere in one pass) and its operations, which must fit in one transaction.
    /// </summary>
    public void Add(IReadOnlyList<Compare> compares, IReadOnlyList<TxnOp> ops)
    {
        var guardCount = _guard is null ? 0 : 1;
        if (compares.Count + guardCount > MaxOps || ops.Count > MaxOps)
        {
            throw new ArgumentException($"one change has {compares.Count} compares and {ops.Count} operations; at most {MaxOps - guardCount} and {MaxOps} fit in a transaction");
        }
        if (_compares.Count + compares.Count(c => !_compared.Contains(c.Key)) > MaxOps || _ops.Count + ops.Count > MaxOps)
        {
            Flush();
        }
        foreach (var compare in compares)
        {
            if (_compared.Add(compare.Key))
            {
                _compares.Add(compare);
            }
        }
        _ops.AddRange(ops);
        Changes++;
    }

    /// <summary>The transactions, in the order the changes were added.</summary>
    public IReadOnlyList<Txn> Build()
    {
        Flush();
        return [.. _done];
    }

    private void Flush()
    {
        if (_ops.Count > 0)
        {
            _done.Add(new Txn([.. _compares], [.. _ops], _failureRead is null ? [] : [_failureRead()]));
        }
        Reset();
    }

    private void Reset()
    {
        _compares.Clear();
        _compared.Clear();
        _ops.Clear();
        if (_guard is not null)
        {
            _compares.Add(_guard);
            _compared.Add(_guard.Key);
        }
    }
}
