using Corral.Core;
using Corral.Core.Api;
using Corral.Server.Security;

namespace Corral.Server.Api;

internal static class KeyEndpoints
{
    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapGet("/apikeys", async (ApiKeyStore keys, CancellationToken ct) =>
            Results.Json((await keys.ListAsync(ct).ConfigureAwait(false)).Select(View).ToList(), CoreJson.Default.ListApiKeyView))
            .RequireRole(Role.Admin);

        api.MapPost("/apikeys", async (HttpRequest request, ApiKeyStore keys, CancellationToken ct) =>
        {
            var (body, error) = await ApiProblems.ReadJsonAsync(request, CoreJson.Default.ApiKeyCreateRequest).ConfigureAwait(false);
            if (error is not null)
            {
                return error;
            }
            var errors = new List<FieldError>();
            if (Names.CheckApiKey(body!.Name) is { } nameError)
            {
                errors.Add(new FieldError("name", nameError));
            }
            // Roles match exactly, lower case, as they are shown ('Admin' is refused, not read as admin).
            var role = Role.Metrics;
            if (Names.CheckApiKeyRole(body.Role) is { } roleError)
            {
                errors.Add(new FieldError("role", roleError));
            }
            else
            {
                role = Enum.Parse<Role>(body.Role, ignoreCase: true);
            }
            if (errors.Count > 0)
            {
                return ApiProblems.BadRequest("invalid API key request", errors);
            }
            var caller = ApiAuth.CallerOf(request.HttpContext);
            var (record, key) = await keys.CreateAsync(body.Name, role, caller.Actor, ct).ConfigureAwait(false);
            return Results.Json(new ApiKeyCreated(View(record), key.ToString()), CoreJson.Default.ApiKeyCreated, statusCode: StatusCodes.Status201Created);
        }).RequireRole(Role.Admin);

        api.MapDelete("/apikeys/{id}", async (string id, HttpContext http, ApiKeyStore keys, CancellationToken ct) =>
        {
            var caller = ApiAuth.CallerOf(http);
            return await keys.RevokeAsync(id, caller.Actor, ct).ConfigureAwait(false)
                ? Results.NoContent()
                : Names.CheckId(id, "API key id") is { } broken
                    ? ApiProblems.BadRequest(broken, [new FieldError("id", broken)])
                    : ApiProblems.NotFound($"no API key with id '{id}'");
        }).RequireRole(Role.Admin);
    }

    private static ApiKeyView View(ApiKeyRecord r) =>
        new(r.Id, r.Name, r.Role.ToString().ToLowerInvariant(), r.CreatedAt, r.CreatedBy, r.RevokedAt);
}
