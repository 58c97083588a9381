using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Corral.Core.Api;
using Microsoft.AspNetCore.Http;

namespace Corral.Server.Api;

/// <summary>RFC 7807 problem responses with the status codes documented in docs/api.md.</summary>
internal static class ApiProblems
{
    public static IResult BadRequest(string detail, IReadOnlyList<FieldError>? errors = null) => Make(StatusCodes.Status400BadRequest, "bad request", detail, errors);

    public static IResult Unauthorized(string detail) => Make(StatusCodes.Status401Unauthorized, "unauthorized", detail);

    public static IResult Forbidden(string detail) => Make(StatusCodes.Status403Forbidden, "forbidden", detail);

    public static IResult NotFound(string detail) => Make(StatusCodes.Status404NotFound, "not found", detail);

    public static IResult Conflict(string detail, IReadOnlyList<FieldError>? errors = null) => Make(StatusCodes.Status409Conflict, "conflict", detail, errors);

    public static IResult Unavailable(string detail) => Make(StatusCodes.Status503ServiceUnavailable, "unavailable", detail);

    /// <summary>503 for a write refused because the store has no quorum (title "quorum lost").</summary>
    public static IResult QuorumLost(string detail) => Make(StatusCodes.Status503ServiceUnavailable, "quorum lost", detail);

    private static IResult Make(int status, string title, string detail, IReadOnlyList<FieldError>? errors = null)
    {
        var extensions = new Dictionary<string, object?>();
        if (errors is { Count: > 0 })
        {
            extensions["errors"] = errors.ToList();
        }
        return Results.Problem(detail: detail, statusCode: status, title: title, extensions: extensions);
    }

    /// <summary>Reads a JSON body; on malformed JSON returns a 400 naming the line, column and path.</summary>
    public static async Task<(T? Value, IResult? Error)> ReadJsonAsync<T>(HttpRequest request, JsonTypeInfo<T> type)
        where T : class
    {
        if (request.ContentLength == 0)
        {
            return (null, BadRequest("the request needs a JSON body"));
        }
        try
        {
            var value = await JsonSerializer.DeserializeAsync(request.Body, type, request.HttpContext.RequestAborted).ConfigureAwait(false);
            return value is null ? (null, BadRequest("the request body is JSON null")) : (value, null);
        }
        catch (JsonException e)
        {
            var field = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? "body" : e.Path.TrimStart('$', '.');
            var line = (int?)(e.LineNumber + 1);
            var column = (int?)(e.BytePositionInLine + 1);
            return (null, BadRequest($"the request body is not valid: {e.Message}", [new FieldError(field, e.Message.Split(" Path:", 2)[0], "body", line, column)]));
        }
    }
}
