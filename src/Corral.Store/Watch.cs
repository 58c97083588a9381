namespace Corral.Store;

/// <summary>The kind of change a watch event reports.</summary>
public enum WatchEventType
{
    Put,
    Delete,
}

/// <summary>One change to one key.</summary>
/// <param name="Type">Put (created or updated) or delete (including deletion by lease expiry or revocation).</param>
/// <param name="Kv">
/// The key after the change. For a delete: the key with an empty value, <see cref="KeyValue.ModRevision"/> set to the
/// deletion's revision, and create revision, version and lease 0.
/// </param>
/// <param name="Previous">The key just before the change; null for a creation.</param>
public sealed record WatchEvent(WatchEventType Type, KeyValue Kv, KeyValue? Previous);

/// <summary>
/// Every event of one revision that matches the watched prefix. A revision is never split across batches,
/// so resuming from <c>Revision + 1</c> after a batch was handled never loses or repeats an event.
/// </summary>
public sealed record WatchBatch(long Revision, IReadOnlyList<WatchEvent> Events);
