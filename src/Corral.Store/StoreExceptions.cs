namespace Corral.Store;

/// <summary>Base of every error the store reports beyond argument validation.</summary>
public class StoreException : Exception
{
    public StoreException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}

/// <summary>
/// A read or watch asked for a revision that compaction removed. Re-list at the current revision (or at
/// <see cref="OldestAvailableRevision"/> or later) and watch again from there.
/// </summary>
public sealed class StoreCompactedException(long requestedRevision, long compactedRevision)
    : StoreException($"revision {requestedRevision} has been compacted; the oldest revision still available is {compactedRevision + 1}")
{
    public long RequestedRevision { get; } = requestedRevision;

    /// <summary>The revision compaction was done at; history above it is kept.</summary>
    public long CompactedRevision { get; } = compactedRevision;

    /// <summary>The oldest revision a watch or past read may still ask for.</summary>
    public long OldestAvailableRevision => CompactedRevision + 1;
}

/// <summary>The lease does not exist: it was never granted, has expired or was revoked.</summary>
public sealed class LeaseNotFoundException(long leaseId)
    : StoreException($"lease {leaseId} not found (never granted, expired or revoked)")
{
    public long LeaseId { get; } = leaseId;
}

/// <summary>
/// The store could not be reached (every endpoint tried, with bounded retries), or has no quorum. The message names
/// the endpoints or file and the last error.
/// </summary>
public sealed class StoreUnavailableException(string message, Exception? inner = null) : StoreException(message, inner);

/// <summary>
/// The backing database is unusable: locked by another process, read-only, or corrupt. The message names the file.
/// </summary>
public sealed class StoreCorruptException(string message, Exception? inner = null) : StoreException(message, inner);

/// <summary>
/// A key, value, lease or transaction over a limit every backend enforces (<see cref="StoreLimits"/>), refused before
/// anything is written. The API answers it as the caller's fault (400), never as an internal error.
/// </summary>
public sealed class StoreLimitException(string message, string paramName) : ArgumentException(message, paramName);
