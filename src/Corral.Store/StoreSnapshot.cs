using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Corral.Store;

/// <summary>
/// The backend-neutral snapshot format, and save/restore over any <see cref="IClusterStore"/>.
/// </summary>
/// <remarks>
/// UTF-8 JSON lines: a header <c>{"format":"corral-snapshot","version":1,"kind":"sqlite","revision":42}</c>, one
/// line per key in key order <c>{"k":"/a","v":"BASE64"}</c>, and a trailer <c>{"end":true,"count":N,"sha256":"HEX"}</c>
/// whose hash covers every key line (bytes and newlines). A missing or wrong trailer means a truncated or altered
/// file: restore refuses it before writing anything.
/// </remarks>
public static class StoreSnapshot
{
    public const string Format = "corral-snapshot";
    public const int FormatVersion = 1;

    private const int PageSize = 1000;
    private const int RestoreBatch = 100;

    /// <summary>Writes every key of <paramref name="store"/> at one revision; returns that revision.</summary>
    public static async Task<long> SaveAsync(IClusterStore store, Stream destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(destination);
        var revision = await store.GetRevisionAsync(cancellationToken).ConfigureAwait(false);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var writer = new StreamWriter(destination, new UTF8Encoding(false), 64 * 1024, leaveOpen: true) { NewLine = "\n" };
        await using (writer.ConfigureAwait(false))
        {
            await writer.WriteLineAsync(JsonSerializer.Serialize(new SnapshotHeader(Format, FormatVersion, store.Kind, revision), SnapshotJson.Default.SnapshotHeader)).ConfigureAwait(false);
            long count = 0;
            string? after = null;
            while (true)
            {
                var page = await store.RangeAsync("", new RangeOptions { Revision = revision, Limit = PageSize, After = after }, cancellationToken).ConfigureAwait(false);
                foreach (var kv in page.Kvs)
                {
                    var line = JsonSerializer.Serialize(new SnapshotEntry(kv.Key, kv.Value.ToArray()), SnapshotJson.Default.SnapshotEntry) + "\n";
                    hash.AppendData(Encoding.UTF8.GetBytes(line));
                    await writer.WriteAsync(line).ConfigureAwait(false);
                    count++;
                }
                if (!page.More || page.Kvs.Count == 0)
                {
                    break;
                }
                after = page.Kvs[^1].Key;
            }
            var trailer = new SnapshotTrailer(true, count, Convert.ToHexStringLower(hash.GetHashAndReset()));
            await writer.WriteLineAsync(JsonSerializer.Serialize(trailer, SnapshotJson.Default.SnapshotTrailer)).ConfigureAwait(false);
            await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        return revision;
    }

    /// <summary>
    /// Reads and verifies a whole snapshot, then writes its keys into <paramref name="store"/>, which must be empty.
    /// A malformed, truncated or altered snapshot throws <see cref="StoreException"/> naming the line, and nothing is written.
    /// </summary>
    public static async Task RestoreAsync(IClusterStore store, Stream source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(source);
        var entries = await ReadAsync(source, cancellationToken).ConfigureAwait(false);

        var existing = await store.RangeAsync("", new RangeOptions { Limit = 1, KeysOnly = true }, cancellationToken).ConfigureAwait(false);
        if (existing.Count > 0)
        {
            throw new StoreException($"restore needs an empty store; this one holds {existing.Count} keys");
        }

        for (var i = 0; i < entries.Count; i += RestoreBatch)
        {
            var ops = entries.Skip(i).Take(RestoreBatch).Select(e => (TxnOp)new TxnOp.Put(e.Key, e.Value)).ToArray();
            await store.TxnAsync(new Txn([], ops, []), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Reads and verifies a snapshot; returns its keys and values in file order.</summary>
    public static async Task<IReadOnlyList<(string Key, byte[] Value)>> ReadAsync(Stream source, CancellationToken cancellationToken = default)
    {
        using var reader = new StreamReader(source, new UTF8Encoding(false, throwOnInvalidBytes: true), false, 64 * 1024, leaveOpen: true);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var lineNumber = 1;
        var headerLine = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new StoreException("snapshot is empty (line 1: expected the header)");
        var header = Parse(headerLine, lineNumber, SnapshotJson.Default.SnapshotHeader);
        if (header.Format != Format || header.Version != FormatVersion)
        {
            throw new StoreException($"snapshot line 1: format '{header.Format}' version {header.Version} is not {Format} version {FormatVersion}");
        }

        var entries = new List<(string, byte[])>();
        while (true)
        {
            lineNumber++;
            var line = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false)
                ?? throw new StoreException($"snapshot is truncated: line {lineNumber}: expected a key or the trailer, found the end of the file");
            if (line.StartsWith("{\"end\"", StringComparison.Ordinal))
            {
                var trailer = Parse(line, lineNumber, SnapshotJson.Default.SnapshotTrailer);
                var actual = Convert.ToHexStringLower(hash.GetHashAndReset());
                if (trailer.Count != entries.Count || !string.Equals(trailer.Sha256, actual, StringComparison.Ordinal))
                {
                    throw new StoreException($"snapshot line {lineNumber}: trailer says {trailer.Count} keys with sha256 {trailer.Sha256}, the file has {entries.Count} keys with sha256 {actual}");
                }
                return entries;
            }
            hash.AppendData(Encoding.UTF8.GetBytes(line + "\n"));
            var entry = Parse(line, lineNumber, SnapshotJson.Default.SnapshotEntry);
            try
            {
                StoreLimits.ValidateKey(entry.K);
                StoreLimits.ValidateValue(entry.V);
            }
            catch (ArgumentException e)
            {
                throw new StoreException($"snapshot line {lineNumber}: {e.Message}", e);
            }
            entries.Add((entry.K, entry.V));
        }
    }

    private static T Parse<T>(string line, int lineNumber, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        try
        {
            return JsonSerializer.Deserialize(line, type) ?? throw new StoreException($"snapshot line {lineNumber}: empty JSON");
        }
        catch (JsonException e)
        {
            throw new StoreException($"snapshot line {lineNumber}: not valid: {e.Message}", e);
        }
    }
}
