namespace Corral.Store;

/// <summary>
/// One key as the store holds it at some revision. Immutable.
/// </summary>
/// <param name="Key">The key: a non-empty, path-like string such as <c>/corral/nodes/a</c>.</param>
/// <param name="Value">The value bytes (empty for delete events).</param>
/// <param name="CreateRevision">Revision of the write that created the key (since its last deletion).</param>
/// <param name="ModRevision">Revision of the last write to the key (for a delete event: the deletion's revision).</param>
/// <param name="Version">Number of writes to the key since it was created; 1 after creation, 0 once deleted.</param>
/// <param name="Lease">The lease the key is attached to, or 0 for none.</param>
public sealed record KeyValue(string Key, ReadOnlyMemory<byte> Value, long CreateRevision, long ModRevision, long Version, long Lease)
{
    /// <summary>The value decoded as UTF-8, for logs and tests.</summary>
    public string ValueString => System.Text.Encoding.UTF8.GetString(Value.Span);
}
