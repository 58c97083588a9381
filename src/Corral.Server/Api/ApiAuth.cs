using Corral.Server.Security;
using Microsoft.AspNetCore.Http;

namespace Corral.Server.Api;

/// <summary>
/// Endpoint filter that requires an API key with at least a given role: 401 without a valid key, 403 with a key whose
/// role is too low. The authenticated <see cref="Caller"/> is put in <c>HttpContext.Items</c>.
/// </summary>
internal sealed class ApiAuth(Role required) : IEndpointFilter
{
    private const string CallerItem = "corral.caller";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var header = http.Request.Headers.Authorization.ToString();
        if (header.Length == 0)
        {
            return ApiProblems.Unauthorized("an API key is required: send 'Authorization: Bearer crl_…' (see 'corral apikey create')");
        }
        var text = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : header.Trim();
        if (!ApiKey.TryParse(text, out var presented))
        {
            return ApiProblems.Unauthorized("the Authorization header does not hold a Corral API key (crl_…)");
        }
        var keys = http.RequestServices.GetRequiredService<ApiKeyStore>();
        var record = await keys.AuthenticateAsync(presented, http.RequestAborted).ConfigureAwait(false);
        if (record is null)
        {
            return ApiProblems.Unauthorized("unknown or revoked API key");
        }
        if (record.Role < required)
        {
            return ApiProblems.Forbidden($"this needs the {required.ToString().ToLowerInvariant()} role; key '{record.Name}' is {record.Role.ToString().ToLowerInvariant()}");
        }
        http.Items[CallerItem] = new Caller(record.Id, record.Name, record.Role);
        return await next(context).ConfigureAwait(false);
    }

    public static Caller CallerOf(HttpContext http) =>
        http.Items[CallerItem] as Caller ?? throw new InvalidOperationException("endpoint without ApiAuth filter");
}

internal static class ApiAuthExtensions
{
    public static TBuilder RequireRole<TBuilder>(this TBuilder builder, Role role)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(new ApiAuth(role));
}
