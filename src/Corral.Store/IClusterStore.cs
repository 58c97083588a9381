namespace Corral.Store;

/// <summary>
/// The cluster database: revisioned keys, prefix ranges, transactions, watches, leases, election, compaction
/// and snapshots. Every backend (embedded SQLite, etcd) gives exactly these guarantees, proven by one
/// conformance suite (tests/Corral.Store.Tests).
/// </summary>
/// <remarks>
/// <para><b>Keys and revisions.</b> Keys are non-empty path-like strings (at most <see cref="StoreLimits.MaxKeyBytes"/>
/// UTF-8 bytes, no NUL) ordered by their UTF-8 bytes; values are bytes (at most <see cref="StoreLimits.MaxValueBytes"/>).
/// The store has one global revision. Every call that changes at least one key advances it by exactly one, and all
/// keys it changes carry that revision; a call that changes nothing (a delete of a missing key, a transaction whose
/// branch only reads) does not advance it. Each key carries its create revision, mod revision and version.</para>
/// <para><b>Consistency.</b> Every call is linearizable: once a write has returned, every later read, on any
/// client of the same store, sees it. Acknowledged writes are durable (SQLite: WAL with synchronous=FULL; etcd: raft
/// majority).</para>
/// <para><b>Errors.</b> Invalid arguments throw <see cref="ArgumentException"/> naming the limit, before anything
/// is written. An unreachable store throws <see cref="StoreUnavailableException"/>, after bounded retries, naming
/// the endpoints or the file. Cancellation throws <see cref="OperationCanceledException"/>; a write cancelled
/// while in flight may or may not have been applied, as with any remote database.</para>
/// </remarks>
public interface IClusterStore : IAsyncDisposable
{
    /// <summary><c>sqlite</c> or <c>etcd</c>.</summary>
    string Kind { get; }

    /// <summary>The current revision (the revision of the latest write; 1 in a new, empty store).</summary>
    Task<long> GetRevisionAsync(CancellationToken cancellationToken = default);

    /// <summary>Reads one key at the current revision; null when it does not exist.</summary>
    Task<KeyValue?> GetAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads every key that starts with <paramref name="prefix"/> (the empty prefix means all keys), in key order,
    /// all at one revision (a consistent snapshot), optionally limited and optionally at a past revision.
    /// </summary>
    Task<RangeResult> RangeAsync(string prefix, RangeOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes a key, creating it or replacing its value; attached to <paramref name="leaseId"/> when not 0 (the key
    /// is then deleted when the lease expires or is revoked). An unknown lease throws <see cref="LeaseNotFoundException"/>
    /// and writes nothing.
    /// </summary>
    Task<PutResult> PutAsync(string key, ReadOnlyMemory<byte> value, long leaseId = 0, CancellationToken cancellationToken = default);

    /// <summary>Deletes one key. Deleting a missing key succeeds with <c>Deleted == 0</c> and does not advance the revision.</summary>
    Task<DeleteResult> DeleteAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Deletes every key that starts with <paramref name="prefix"/>, atomically, at one revision.</summary>
    Task<DeleteResult> DeletePrefixAsync(string prefix, CancellationToken cancellationToken = default);

    /// <summary>
    /// Evaluates every compare against the current state and runs the success branch when all hold, the failure
    /// branch otherwise: atomically, at one revision, with no other write in between. A branch that references an
    /// unknown lease throws <see cref="LeaseNotFoundException"/> and writes nothing.
    /// </summary>
    Task<TxnResult> TxnAsync(Txn txn, CancellationToken cancellationToken = default);

    /// <summary>
    /// Streams every change to keys that start with <paramref name="prefix"/> with a revision at or above
    /// <paramref name="fromRevision"/> (0 means "from the next write"), one batch per revision, in revision order,
    /// each event with the key's previous value: no gaps, no duplicates, across the whole stream, also when the
    /// backend reconnects underneath (etcd member failover resumes from the last delivered revision).
    /// To resume after the stream ended or was cancelled, watch again from the last batch's revision + 1.
    /// When <paramref name="fromRevision"/> was compacted away, the enumeration throws
    /// <see cref="StoreCompactedException"/> naming the oldest revision still available: re-list and re-watch.
    /// The stream ends only by cancellation or an exception; a slow consumer applies back-pressure (events are never dropped).
    /// </summary>
    IAsyncEnumerable<WatchBatch> WatchAsync(string prefix, long fromRevision, CancellationToken cancellationToken = default);

    /// <summary>
    /// Grants a lease of <paramref name="ttl"/> (rounded up to whole seconds; a backend may raise it to its minimum,
    /// reported in the result). The lease expires <c>Ttl</c> after it was granted or last kept alive; its keys are
    /// then deleted, with delete events, in one revision.
    /// </summary>
    Task<LeaseGrant> GrantLeaseAsync(TimeSpan ttl, CancellationToken cancellationToken = default);

    /// <summary>Renews a lease once: it expires its full TTL from now. Throws <see cref="LeaseNotFoundException"/> when it is gone.</summary>
    Task<LeaseInfo> KeepAliveOnceAsync(long leaseId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Renews a lease every <paramref name="interval"/> until cancelled, yielding each acknowledgement (etcd: over one
    /// keep-alive stream). Ends by throwing <see cref="LeaseNotFoundException"/> when the lease is gone; store
    /// errors are thrown as they happen, so the caller decides how long it may go without an acknowledgement.
    /// </summary>
    IAsyncEnumerable<LeaseInfo> KeepAliveAsync(long leaseId, TimeSpan interval, CancellationToken cancellationToken = default);

    /// <summary>Revokes a lease: its keys are deleted at once, with delete events, in one revision. Revoking an unknown lease throws <see cref="LeaseNotFoundException"/>.</summary>
    Task RevokeLeaseAsync(long leaseId, CancellationToken cancellationToken = default);

    /// <summary>The lease's remaining time and keys; null when it does not exist (never granted, expired or revoked).</summary>
    Task<LeaseInfo?> GetLeaseAsync(long leaseId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Waits until this caller leads <paramref name="election"/> (first come, first served among live contenders),
    /// then returns the leadership. The leadership is backed by a lease this call grants and keeps alive; see
    /// <see cref="ILeadership.Token"/> for when it is lost. At any time at most one contender holds an uncancelled token,
    /// provided the caller's clock does not run slower than the store's by more than the step-down margin.
    /// Cancelling <paramref name="cancellationToken"/> while waiting withdraws the candidacy.
    /// </summary>
    Task<ILeadership> CampaignAsync(string election, ReadOnlyMemory<byte> value, ElectionOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>The current leader of <paramref name="election"/>, or null when nobody leads.</summary>
    Task<LeaderInfo?> GetLeaderAsync(string election, CancellationToken cancellationToken = default);

    /// <summary>Yields the current leader (or null) at once, then again every time it changes, until cancelled.</summary>
    IAsyncEnumerable<LeaderInfo?> ObserveLeaderAsync(string election, CancellationToken cancellationToken = default);

    /// <summary>
    /// Discards history at and below <paramref name="revision"/>: later watches and past reads from those revisions throw
    /// <see cref="StoreCompactedException"/>. Current keys are untouched. Compacting at or below an earlier compaction
    /// throws <see cref="StoreCompactedException"/>; above the current revision throws <see cref="ArgumentException"/>.
    /// </summary>
    Task CompactAsync(long revision, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes every key (key, value) as of one revision to <paramref name="destination"/> in the backend-neutral
    /// snapshot format (<see cref="StoreSnapshot"/>), and returns that revision. Leases are not included.
    /// </summary>
    Task<long> SaveSnapshotAsync(Stream destination, CancellationToken cancellationToken = default);

    /// <summary>
    /// Restores a snapshot written by any backend into this store, which must hold no key (otherwise
    /// <see cref="StoreException"/>, and nothing is written). Keys get new revisions; keys and values are identical.
    /// </summary>
    Task RestoreSnapshotAsync(Stream source, CancellationToken cancellationToken = default);

    /// <summary>Kind, revision, compaction, members and their health, database size.</summary>
    Task<StoreStatus> GetStatusAsync(CancellationToken cancellationToken = default);
}
