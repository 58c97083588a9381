using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Corral.Core;

/// <summary>
/// A <see cref="TimeSpan"/> in JSON as a stack file writes it: <c>30s</c>, <c>1m30s</c>, <c>500ms</c>
/// (<see cref="Durations.FormatExact"/>, so every value reads back exactly). Reads that form, the <c>00:00:30</c> form
/// earlier versions wrote (stored records, older peers), an optional leading <c>-</c>, and a bare number as seconds.
/// </summary>
public sealed class DurationJsonConverter : JsonConverter<TimeSpan>
{
    public override TimeSpan Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Number)
        {
            return TimeSpan.FromSeconds(reader.GetDouble());
        }
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException($"expected a duration such as \"30s\", not {reader.TokenType}");
        }
        var text = reader.GetString()!.Trim();
        var negative = text.StartsWith('-');
        var body = negative ? text[1..] : text;
        if (Durations.TryParse(body, out var value, out var error)
            || (body.Contains(':', StringComparison.Ordinal) && TimeSpan.TryParseExact(body, "c", CultureInfo.InvariantCulture, out value)))
        {
            return negative ? -value : value;
        }
        throw new JsonException(error);
    }

    public override void Write(Utf8JsonWriter writer, TimeSpan value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(Durations.FormatExact(value));
    }
}
