namespace Corral.Store;

/// <summary>The result of a range read.</summary>
/// <param name="Kvs">
/// The keys found, in ascending ordinal (byte) order of their UTF-8 key (descending with <see cref="RangeOptions.Descending"/>).
/// </param>
/// <param name="Revision">The store revision the read was served at.</param>
/// <param name="More">True when <see cref="RangeOptions.Limit"/> cut the result short.</param>
/// <param name="Count">The number of keys in the whole range at that revision (ignoring the limit).</param>
public sealed record RangeResult(IReadOnlyList<KeyValue> Kvs, long Revision, bool More, long Count);

/// <summary>The result of a put.</summary>
/// <param name="Revision">The revision of this write.</param>
/// <param name="Previous">The key as it was before the put, or null when it was created.</param>
public sealed record PutResult(long Revision, KeyValue? Previous);

/// <summary>The result of a delete of one key or a prefix.</summary>
/// <param name="Revision">The revision of the deletion; the current revision when nothing was deleted.</param>
/// <param name="Deleted">How many keys were deleted.</param>
/// <param name="Previous">The deleted keys as they were just before.</param>
public sealed record DeleteResult(long Revision, long Deleted, IReadOnlyList<KeyValue> Previous);
