namespace Corral.Store;

/// <summary>A granted lease.</summary>
/// <param name="Id">The lease id (never 0).</param>
/// <param name="Ttl">The TTL the store granted: whole seconds, possibly raised to the backend's minimum.</param>
public sealed record LeaseGrant(long Id, TimeSpan Ttl);

/// <summary>A lease's remaining life, as answered by a time-to-live query or a keep-alive.</summary>
/// <param name="Id">The lease id.</param>
/// <param name="Remaining">Time left before it expires (whole seconds, rounded as the backend does).</param>
/// <param name="Granted">The TTL it was granted with.</param>
/// <param name="Keys">The keys attached to it (only filled by <see cref="IClusterStore.GetLeaseAsync"/>).</param>
public sealed record LeaseInfo(long Id, TimeSpan Remaining, TimeSpan Granted, IReadOnlyList<string> Keys);
