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

    /// <summary>Reads a JSON body the one way every route does (<see cref="RequestBody"/>): 400 naming the field, 413 when too large.</summary>
    public static Task<(T? Value, IResult? Error)> ReadJsonAsync<T>(HttpRequest request, JsonTypeInfo<T> type)
        where T : class => RequestBody.ReadAsync(request, type);
}
