using System.Text.Json;
using System.Text.Json.Serialization;
using Corral.Core;

namespace Corral.Agent.Runtime;

/// <summary>
/// JSON options for the agent's own files (tasks file, replica records, status file): snake_case names,
/// kebab-case enums (<c>on-failure</c>, by each enum's <see cref="EnumJsonConverter{T}"/>), human durations. Reflection-based on purpose: these files are written by
/// people, and only the reflection serializer leaves a field that is left out at its documented default
/// (the source generator resets init-only properties it does not find).
/// </summary>
public static class AgentJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.General)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        PropertyNameCaseInsensitive = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        WriteIndented = true,
        Converters = { new DurationJsonConverter() },
        TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver(),
    };

    /// <summary>Writes <paramref name="value"/> to <paramref name="path"/> atomically (temp file, then rename).</summary>
    public static void WriteAtomically<T>(string path, T value)
    {
        var temp = path + ".tmp";
        File.WriteAllBytes(temp, JsonSerializer.SerializeToUtf8Bytes(value, Options));
        File.Move(temp, path, overwrite: true);
    }
}
