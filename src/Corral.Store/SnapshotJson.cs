using System.Text.Json.Serialization;

namespace Corral.Store;

internal sealed record SnapshotHeader(
    [property: JsonPropertyName("format")] string Format,
    [property: JsonPropertyName("version")] int Version,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("revision")] long Revision);

internal sealed record SnapshotEntry(
    [property: JsonPropertyName("k")] string K,
    [property: JsonPropertyName("v")] byte[] V);

internal sealed record SnapshotTrailer(
    [property: JsonPropertyName("end")] bool End,
    [property: JsonPropertyName("count")] long Count,
    [property: JsonPropertyName("sha256")] string Sha256);

[JsonSourceGenerationOptions(WriteIndented = false)]
[JsonSerializable(typeof(SnapshotHeader))]
[JsonSerializable(typeof(SnapshotEntry))]
[JsonSerializable(typeof(SnapshotTrailer))]
internal sealed partial class SnapshotJson : JsonSerializerContext;
