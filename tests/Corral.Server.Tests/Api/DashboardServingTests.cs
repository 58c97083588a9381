using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Corral.Server.Dashboard;

namespace Corral.Server.Tests.Api;

/// <summary>The dashboard's files as the server serves them (what the page does is tested in Corral.DashboardTests).</summary>
public sealed class DashboardServingTests : IAsyncLifetime
{
    private ServerHost _server = null!;

    public async Task InitializeAsync() => _server = await ServerHost.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData("/")]
    [InlineData("/ui")]
    public async Task Root_RedirectsToUi(string path)
    {
        using var client = _server.Client(followRedirects: false);

        var response = await client.GetAsync(path);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/ui/", response.Headers.Location?.OriginalString);
    }

    [Theory]
    [InlineData("/ui/", "text/html", "<title>Corral</title>")]
    [InlineData("/ui/index.html", "text/html", "<title>Corral</title>")]
    [InlineData("/ui/app.css", "text/css", ".cards")]
    [InlineData("/ui/js/app.js", "text/javascript", "import")]
    [InlineData("/ui/favicon.svg", "image/svg+xml", "<svg")]
    public async Task Files_ServedWithoutKey_WithTypeEtagAndPolicy(string path, string mediaType, string content)
    {
        using var client = _server.Client();

        var response = await client.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(content, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.True(response.Headers.CacheControl?.NoCache, "Cache-Control: no-cache (revalidate with the ETag)");
        Assert.NotNull(response.Headers.ETag);
        Assert.False(response.Headers.ETag.IsWeak);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        var csp = Assert.Single(response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
    }

    [Fact]
    public async Task File_WithMatchingETag_Is304_AndOtherETag_Is200()
    {
        using var client = _server.Client();
        var first = await client.GetAsync("/ui/js/app.js");
        var etag = first.Headers.ETag!;

        using var same = new HttpRequestMessage(HttpMethod.Get, "/ui/js/app.js");
        same.Headers.IfNoneMatch.Add(etag);
        var notModified = await client.SendAsync(same);
        using var other = new HttpRequestMessage(HttpMethod.Get, "/ui/js/app.js");
        other.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"0123\""));
        var modified = await client.SendAsync(other);

        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());
        Assert.Equal(etag, notModified.Headers.ETag);
        Assert.Equal(HttpStatusCode.OK, modified.StatusCode);
        Assert.Equal(await first.Content.ReadAsByteArrayAsync(), await modified.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("/ui/nope.js")]
    [InlineData("/ui/js/../../v1/status")]
    [InlineData("/ui/%2e%2e/ServerConfig.json")]
    public async Task UnknownFile_Is404(string path)
    {
        using var client = _server.Client(followRedirects: false);

        var response = await client.GetAsync(new Uri(path, UriKind.Relative));

        Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain("\"leader\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public void EveryEmbeddedFile_HasAContentType_AndTheModulesItImports()
    {
        var assets = DashboardAssets.Load();

        Assert.Contains("index.html", assets.Paths);
        foreach (var path in assets.Paths.Where(p => p.EndsWith(".js", StringComparison.Ordinal)))
        {
            Assert.True(assets.TryGet(path, out var asset));
            var text = System.Text.Encoding.UTF8.GetString(asset.Content);
            foreach (System.Text.RegularExpressions.Match import in System.Text.RegularExpressions.Regex.Matches(text, @"from '\./([a-z/]+\.js)'"))
            {
                Assert.Contains("js/" + import.Groups[1].Value, assets.Paths);
            }
            // Data goes into the page as text only.
            Assert.DoesNotContain(".innerHTML", text, StringComparison.Ordinal);
            Assert.DoesNotContain(".insertAdjacentHTML", text, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("viewer")]
    [InlineData("operator")]
    [InlineData("admin")]
    public async Task WhoAmI_NamesTheKeyAndRole(string role)
    {
        using var client = _server.Client(await _server.CreateKeyAsync("who-" + role, role));

        var response = await client.GetAsync("/v1/whoami");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("who-" + role, body.RootElement.GetProperty("name").GetString());
        Assert.Equal(role, body.RootElement.GetProperty("role").GetString());
        Assert.Equal(12, body.RootElement.GetProperty("id").GetString()!.Length);
    }

    [Fact]
    public async Task WhoAmI_WithoutKey_Is401()
    {
        using var client = _server.Client();

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/v1/whoami")).StatusCode);
    }
}
