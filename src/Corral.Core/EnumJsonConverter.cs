using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Corral.Core;

/// <summary>
/// An enum in JSON as a stack file writes it: lower case, words joined by <c>-</c> (<c>on-failure</c>,
/// <c>kept-not-in-file</c>), or the member's <see cref="JsonStringEnumMemberName"/>. Reads that form in any case, the
/// PascalCase earlier versions wrote (<c>OnFailure</c>), snake case (<c>on_failure</c>) and a defined number; anything
/// else is a <see cref="JsonException"/> listing the names. Put on each enum with
/// <c>[JsonConverter(typeof(EnumJsonConverter&lt;T&gt;))]</c> so that every serializer (source-generated or not) agrees;
/// a converter in a serializer's options would still win over it.
/// </summary>
public sealed class EnumJsonConverter<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicFields)] T> : JsonConverter<T>
    where T : struct, Enum
{
    private static readonly (T Value, string Name)[] Members = [.. Enum.GetValues<T>().Select(value => (value, NameOf(value)))];

    private static readonly Dictionary<string, T> ByKey = BuildKeys();

    private static readonly string Names = string.Join(", ", Members.Select(m => m.Name));

    /// <summary>The JSON name of <paramref name="value"/>.</summary>
    public static string Name(T value)
    {
        foreach (var member in Members)
        {
            if (EqualityComparer<T>.Default.Equals(member.Value, value))
            {
                return member.Name;
            }
        }
        throw new JsonException($"{value} is not a defined {typeof(T).Name}");
    }

    public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var number))
        {
            foreach (var member in Members)
            {
                if (Convert.ToInt64(member.Value, System.Globalization.CultureInfo.InvariantCulture) == number)
                {
                    return member.Value;
                }
            }
            throw new JsonException($"{number} is not a {Describe()}");
        }
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException($"expected a {Describe()}, not {reader.TokenType}");
        }
        return Parse(reader.GetString()!);
    }

    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(Name(value));
    }

    public override T ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => Parse(reader.GetString()!);

    public override void WriteAsPropertyName(Utf8JsonWriter writer, [DisallowNull] T value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WritePropertyName(Name(value));
    }

    private static T Parse(string text) =>
        ByKey.TryGetValue(Key(text), out var value) ? value : throw new JsonException($"'{text}' is not a {Describe()}");

    private static string Describe() => $"{typeof(T).Name}: expected one of {Names}";

    /// <summary>Case and word separators do not count: <c>on-failure</c>, <c>on_failure</c> and <c>OnFailure</c> are one key.</summary>
    private static string Key(string text) => text.Trim().Replace("-", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal).ToUpperInvariant();

    private static Dictionary<string, T> BuildKeys()
    {
        var keys = new Dictionary<string, T>(StringComparer.Ordinal);
        foreach (var (value, name) in Members)
        {
            keys.TryAdd(Key(name), value);
            keys.TryAdd(Key(value.ToString()), value);
        }
        return keys;
    }

    private static string NameOf(T value)
    {
        var member = value.ToString();
        var attribute = typeof(T).GetField(member, BindingFlags.Public | BindingFlags.Static)?.GetCustomAttribute<JsonStringEnumMemberNameAttribute>();
        return attribute?.Name ?? JsonNamingPolicy.KebabCaseLower.ConvertName(member);
    }
}
