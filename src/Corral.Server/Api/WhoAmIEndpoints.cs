using Corral.Core;
using Corral.Core.Api;
using Corral.Server.Security;

namespace Corral.Server.Api;

internal static class WhoAmIEndpoints
{
    public static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/whoami", (HttpContext http) =>
        {
            var caller = ApiAuth.CallerOf(http);
            return Results.Json(new WhoAmI(caller.KeyId, caller.Name, caller.Role.ToString().ToLowerInvariant()), CoreJson.Default.WhoAmI);
        }).RequireRole(Role.Viewer);
}
