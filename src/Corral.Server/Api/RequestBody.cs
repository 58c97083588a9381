using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Corral.Core;
using Corral.Core.Api;
using Microsoft.AspNetCore.Http;

namespace Corral.Server.Api;

/// <summary>
/// The one way a request body is read, for every route that takes one (operator API and agent protocol). The body is
/// read whole up to <see cref="MaxBytes"/> (413 past it), must be one JSON value of the route's type, and its shape is
/// checked against the type's serialization metadata before anything is bound: a member the type does not have, a
/// required member that is missing, a member given twice and a null where the type has no null are each a 400 that
/// names the field (<c>replicas</c>, <c>replicas[2].state</c>). So a misspelled field can never bind as its default.
/// </summary>
/// <remarks>
/// A member is required when its constructor parameter has no default value and is not nullable (or it is declared
/// <c>required</c>). Nullable members may be left out, which is how <see cref="Corral.Core.CoreJson"/> writes a null.
/// <see cref="RequiredMembersTransformer"/> marks the same members required in the OpenAPI document.
/// </remarks>
internal static class RequestBody
{
    /// <summary>Largest request body read (4 MiB): four times the store's largest value.</summary>
    public const int MaxBytes = 4 * 1024 * 1024;

    /// <summary>Nesting deeper than this is refused before it is bound.</summary>
    private const int MaxDepth = 32;

    /// <summary>Reads the body as <paramref name="type"/>, or the 400/413 problem that says what was wrong.</summary>
    public static async Task<(T? Value, IResult? Error)> ReadAsync<T>(HttpRequest request, JsonTypeInfo<T> type)
        where T : class
    {
        if (request.ContentLength > MaxBytes)
        {
            return (null, TooLarge(request.ContentLength.Value));
        }
        var buffer = new ArrayBufferWriter<byte>(request.ContentLength is { } length and > 0 ? (int)length : 4096);
        while (true)
        {
            var memory = buffer.GetMemory(16 * 1024);
            var read = await request.Body.ReadAsync(memory, request.HttpContext.RequestAborted).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }
            buffer.Advance(read);
            if (buffer.WrittenCount > MaxBytes)
            {
                return (null, TooLarge(null));
            }
        }
        if (buffer.WrittenCount == 0)
        {
            return (null, ApiProblems.BadRequest("the request needs a JSON body", [new FieldError("body", "empty; a JSON object is required")]));
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(buffer.WrittenMemory, new JsonDocumentOptions { MaxDepth = MaxDepth });
        }
        catch (JsonException e)
        {
            return (null, Malformed(e));
        }
        using (document)
        {
            var errors = new List<FieldError>();
            CheckShape(document.RootElement, type, "", errors);
            if (errors.Count > 0)
            {
                var summary = string.Join("; ", errors.Take(5).Select(e => $"{e.Field}: {e.Message}"));
                return (null, ApiProblems.BadRequest($"the request body does not fit this route: {summary}", errors));
            }
        }
        try
        {
            var value = JsonSerializer.Deserialize(buffer.WrittenSpan, type);
            return value is null ? (null, ApiProblems.BadRequest("the request body is JSON null", [new FieldError("body", "a JSON object is required")])) : (value, null);
        }
        catch (JsonException e)
        {
            return (null, Malformed(e));
        }
    }

    private static IResult TooLarge(long? length) => Results.Problem(
        statusCode: StatusCodes.Status413PayloadTooLarge,
        title: "request body too large",
        detail: $"the request body is {(length is { } l ? $"{l} bytes" : "over the limit")}; the API reads at most {MaxBytes} bytes (4 MiB)"
            + " and the store keeps at most 1 MiB per service");

    private static IResult Malformed(JsonException e)
    {
        var field = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? "body" : e.Path.TrimStart('$', '.');
        var message = e.Message.Split(" Path:", 2)[0];
        int? line = e.LineNumber is { } l ? (int)l + 1 : null;
        int? column = e.BytePositionInLine is { } c ? (int)c + 1 : null;
        return ApiProblems.BadRequest($"the request body is not valid JSON for this route: {message}", [new FieldError(field, message, "body", line, column)]);
    }

    /// <summary>Whether a member must be present (see the class remarks).</summary>
    public static bool IsRequired(JsonPropertyInfo property) =>
        property.IsRequired || property.AssociatedParameter is { HasDefaultValue: false, IsNullable: false };

    /// <summary>Whether a member may be JSON null.</summary>
    private static bool AcceptsNull(JsonPropertyInfo property) =>
        property.AssociatedParameter?.IsNullable ?? property.IsSetNullable;

    private static void CheckShape(JsonElement element, JsonTypeInfo info, string path, List<FieldError> errors)
    {
        const int MaxErrors = 50;
        if (errors.Count >= MaxErrors)
        {
            return;
        }
        switch (info.Kind)
        {
            case JsonTypeInfoKind.Object when element.ValueKind == JsonValueKind.Object:
                var seen = new HashSet<string>(StringComparer.Ordinal);
                foreach (var member in element.EnumerateObject())
                {
                    var field = Join(path, member.Name);
                    if (!seen.Add(member.Name))
                    {
                        errors.Add(new FieldError(field, "given more than once"));
                        continue;
                    }
                    var property = info.Properties.FirstOrDefault(p => string.Equals(p.Name, member.Name, StringComparison.Ordinal));
                    if (property is null)
                    {
                        errors.Add(new FieldError(field, Unknown(member.Name, info)));
                        continue;
                    }
                    if (member.Value.ValueKind == JsonValueKind.Null)
                    {
                        if (!AcceptsNull(property))
                        {
                            errors.Add(new FieldError(field, "must not be null"));
                        }
                        continue;
                    }
                    CheckShape(member.Value, info.Options.GetTypeInfo(property.PropertyType), field, errors);
                }
                foreach (var property in info.Properties)
                {
                    if (IsRequired(property) && !seen.Contains(property.Name))
                    {
                        errors.Add(new FieldError(Join(path, property.Name), "required"));
                    }
                }
                break;
            case JsonTypeInfoKind.Enumerable when element.ValueKind == JsonValueKind.Array && info.ElementType is { } itemType:
                var items = info.Options.GetTypeInfo(itemType);
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.Null)
                    {
                        CheckShape(item, items, $"{path}[{index}]", errors);
                    }
                    index++;
                }
                break;
            case JsonTypeInfoKind.Dictionary when element.ValueKind == JsonValueKind.Object && info.ElementType is { } valueType:
                var values = info.Options.GetTypeInfo(valueType);
                var keys = new HashSet<string>(StringComparer.Ordinal);
                foreach (var member in element.EnumerateObject())
                {
                    if (!keys.Add(member.Name))
                    {
                        errors.Add(new FieldError(Join(path, member.Name), "given more than once"));
                    }
                    else if (member.Value.ValueKind != JsonValueKind.Null)
                    {
                        CheckShape(member.Value, values, Join(path, member.Name), errors);
                    }
                }
                break;
            default:
                // Scalars, and values of the wrong JSON kind: the deserializer refuses those with the path and position.
                break;
        }
    }

    private static string Join(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";

    private static string Unknown(string name, JsonTypeInfo info)
    {
        var known = info.Properties.Select(p => p.Name).ToList();
        var near = known.FirstOrDefault(k => k.Replace("_", "", StringComparison.Ordinal).Equals(name.Replace("_", "", StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase))
            ?? NearestName.Find(name, known);
        var fields = known.Count == 0 ? "none" : string.Join(", ", known);
        return near is null ? $"unknown field; this body's fields are: {fields}" : $"unknown field; did you mean '{near}'? (fields: {fields})";
    }
}
