using Microsoft.Net.Http.Headers;

namespace Corral.Server.Dashboard;

/// <summary>
/// Serves the web dashboard at <c>/ui/</c> on every server (<c>/</c> redirects there). The page itself needs no key:
/// it signs in with an API key and calls <c>/v1</c> like any client. Every file is revalidated on each load
/// (<c>Cache-Control: no-cache</c> with a strong ETag), so a server upgrade is picked up at once and an unchanged
/// file costs a 304.
/// </summary>
internal static class DashboardEndpoints
{
    /// <summary>
    /// Scripts, styles and connections from this origin only; no inline script or style, no framing. The dashboard
    /// builds every element with DOM calls and sets text with <c>textContent</c>.
    /// </summary>
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    public static void Map(IEndpointRouteBuilder app)
    {
        var assets = DashboardAssets.Load();
        app.MapGet("/", () => Results.Redirect("/ui/")).ExcludeFromDescription();
        app.MapMethods("/ui/{**path}", [HttpMethods.Get, HttpMethods.Head], (string? path, HttpContext http) =>
        {
            // "/ui" matches too (a catch-all may be empty): the page's relative links need the trailing slash.
            if (!http.Request.Path.Value!.EndsWith('/') && string.IsNullOrEmpty(path))
            {
                return Results.Redirect("/ui/");
            }
            if (!assets.TryGet(string.IsNullOrEmpty(path) ? "index.html" : path, out var asset))
            {
                return Results.NotFound();
            }
            var headers = http.Response.Headers;
            headers.ETag = asset.ETag;
            headers.CacheControl = "no-cache";
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers["X-Frame-Options"] = "DENY";
            var ifNoneMatch = http.Request.GetTypedHeaders().IfNoneMatch;
            if (ifNoneMatch.Any(tag => tag.Equals(EntityTagHeaderValue.Any) || tag.Tag.Equals(asset.ETag, StringComparison.Ordinal)))
            {
                return Results.StatusCode(StatusCodes.Status304NotModified);
            }
            return Results.Bytes(asset.Content, asset.ContentType);
        }).ExcludeFromDescription();
    }
}
