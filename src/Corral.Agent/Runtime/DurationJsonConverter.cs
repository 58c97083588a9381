using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Corral.Core;

namespace Corral.Agent.Runtime;

/// <summary>
/// Durations in the agent's JSON files as people write them: <c>"10s"</c>, <c>"500ms"</c>, <c>"1m30s"</c>, a number
/// of seconds, or <c>"00:00:10"</c>. A leading minus is kept, so a negative timeout reaches validation and is
/// reported there by name instead of failing the whole file.
/// </summary>
public sealed class DurationJsonConverter : JsonConverter<TimeSpan>
{
    public override TimeSpan Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Number)
        {
            return TimeSpan.FromSeconds(reader.GetDouble());
        }
        var text = reader.GetString()?.Trim() ?? throw new JsonException("expected a duration such as \"10s\"");
        var negative = text.StartsWith('-');
        var body = negative ? text[1..] : text;
        if (Durations.TryParse(body, out var value, out var error)
            || TimeSpan.TryParse(body, CultureInfo.InvariantCulture, out value))
        {
            return negative ? -value : value;
        }
        throw new JsonException(error);
    }

    public override void Write(Utf8JsonWriter writer, TimeSpan value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(value < TimeSpan.Zero ? "-" + Durations.Format(-value) : Durations.Format(value));
    }
}
