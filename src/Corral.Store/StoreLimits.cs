using System.Text;

namespace Corral.Store;

/// <summary>
/// Limits every backend enforces identically, before anything is written; violations throw
/// <see cref="ArgumentException"/> whose message names the limit.
/// </summary>
public static class StoreLimits
{
    /// <summary>Largest key, in UTF-8 bytes (1.5 KiB).</summary>
    public const int MaxKeyBytes = 1536;

    /// <summary>Largest value, in bytes (1 MiB).</summary>
    public const int MaxValueBytes = 1024 * 1024;

    /// <summary>Longest lease TTL (etcd's own maximum is 9,000,000,000 s; ours is a sane 1 year).</summary>
    public static readonly TimeSpan MaxLeaseTtl = TimeSpan.FromDays(365);

    /// <summary>Throws when <paramref name="key"/> is empty, has a NUL character or is longer than <see cref="MaxKeyBytes"/>.</summary>
    public static void ValidateKey(string key, string paramName = "key")
    {
        ArgumentNullException.ThrowIfNull(key, paramName);
        if (key.Length == 0)
        {
            throw new StoreLimitException("key must not be empty", paramName);
        }
        if (key.Contains('\0', StringComparison.Ordinal))
        {
            throw new StoreLimitException("key must not contain a NUL character", paramName);
        }
        var bytes = Encoding.UTF8.GetByteCount(key);
        if (bytes > MaxKeyBytes)
        {
            throw new StoreLimitException($"key is {bytes} bytes; the limit is {MaxKeyBytes} bytes (1.5 KiB)", paramName);
        }
    }

    /// <summary>Throws when <paramref name="prefix"/> is too long or has a NUL character. The empty prefix means every key.</summary>
    public static void ValidatePrefix(string prefix, string paramName = "prefix")
    {
        ArgumentNullException.ThrowIfNull(prefix, paramName);
        if (prefix.Length > 0)
        {
            ValidateKey(prefix, paramName);
        }
    }

    /// <summary>Throws when <paramref name="value"/> is larger than <see cref="MaxValueBytes"/>.</summary>
    public static void ValidateValue(ReadOnlyMemory<byte> value, string paramName = "value")
    {
        if (value.Length > MaxValueBytes)
        {
            throw new StoreLimitException($"value is {value.Length} bytes; the limit is {MaxValueBytes} bytes (1 MiB)", paramName);
        }
    }

    /// <summary>
    /// Throws when <paramref name="ttl"/> is zero, negative or above <see cref="MaxLeaseTtl"/>; otherwise returns it in
    /// whole seconds, rounded up.
    /// </summary>
    public static long ValidateTtl(TimeSpan ttl, string paramName = "ttl")
    {
        if (ttl <= TimeSpan.Zero)
        {
            throw new StoreLimitException($"lease TTL must be positive (at least 1 s); got {ttl.TotalSeconds} s", paramName);
        }
        if (ttl > MaxLeaseTtl)
        {
            throw new StoreLimitException($"lease TTL {ttl.TotalSeconds} s is above the limit of {MaxLeaseTtl.TotalSeconds} s", paramName);
        }
        return (long)Math.Ceiling(ttl.TotalSeconds);
    }

    /// <summary>Throws when <paramref name="leaseId"/> is negative; 0 means no lease.</summary>
    public static void ValidateLeaseId(long leaseId, string paramName = "leaseId")
    {
        if (leaseId < 0)
        {
            throw new StoreLimitException($"lease id must be positive, or 0 for no lease; got {leaseId}", paramName);
        }
    }

    /// <summary>Validates every key, value and lease id a transaction writes, and that no key is written twice in a branch.</summary>
    public static void ValidateTxn(Txn txn)
    {
        ArgumentNullException.ThrowIfNull(txn);
        foreach (var compare in txn.Compares)
        {
            ValidateKey(compare.Key, "txn.compare.key");
            ValidateValue(compare.Value, "txn.compare.value");
        }
        ValidateBranch(txn.Success, "txn.success");
        ValidateBranch(txn.Failure, "txn.failure");
    }

    private static void ValidateBranch(IReadOnlyList<TxnOp> ops, string where)
    {
        var written = new HashSet<string>(StringComparer.Ordinal);
        var deletedPrefixes = ops.OfType<TxnOp.DeletePrefix>().Select(d => d.Prefix).ToList();
        for (var i = 0; i < ops.Count; i++)
        {
            var at = $"{where}[{i}]";
            switch (ops[i])
            {
                case TxnOp.Put put:
                    ValidateKey(put.Key, at + ".key");
                    ValidateValue(put.Value, at + ".value");
                    ValidateLeaseId(put.Lease, at + ".lease");
                    if (!written.Add(put.Key) || deletedPrefixes.Any(p => put.Key.StartsWith(p, StringComparison.Ordinal)))
                    {
                        throw new StoreLimitException($"{at}: key '{put.Key}' is written twice in one transaction branch", where);
                    }
                    break;
                case TxnOp.Delete delete:
                    ValidateKey(delete.Key, at + ".key");
                    if (!written.Add(delete.Key))
                    {
                        throw new StoreLimitException($"{at}: key '{delete.Key}' is written twice in one transaction branch", where);
                    }
                    break;
                case TxnOp.DeletePrefix deletePrefix:
                    ValidatePrefix(deletePrefix.Prefix, at + ".prefix");
                    break;
                case TxnOp.Get get:
                    ValidateKey(get.Key, at + ".key");
                    break;
                case TxnOp.Range range:
                    ValidatePrefix(range.Prefix, at + ".prefix");
                    if (range.Options.Revision != 0)
                    {
                        throw new StoreLimitException($"{at}: a range inside a transaction reads at the transaction's revision; Revision must be 0", where);
                    }
                    break;
                default:
                    throw new StoreLimitException($"{at}: unknown operation {ops[i].GetType().Name}", where);
            }
        }
    }
}
