using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Corral.Core;
using Corral.Core.Api;

namespace Corral.Server.Tests.Api;

/// <summary>GET /v1/events: query validation, filters and the blocking query with a filter, on one real server.</summary>
public sealed class EventApiTests : IClassFixture<EventApiTests.Server>
{
    private readonly ServerHost _server;

    public EventApiTests(Server server) => _server = server.Host;

    [Theory]
    [InlineData("index=-1", "index")]
    [InlineData("index=abc", "index")]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=-5", "limit")]
    [InlineData("limit=10001", "limit")]
    [InlineData("tail=0", "tail")]
    [InlineData("tail=x", "tail")]
    [InlineData("since=yesterday", "since")]
    [InlineData("since=-5m", "since")]
    [InlineData("since=2026-12-07T10:00:00", "since")]
    [InlineData("type=Replica!", "type")]
    [InlineData("type=replica.,node", "type")]
    [InlineData("type=", "type")]
    [InlineData("service=", "service")]
    [InlineData("node=a/b", "node")]
    [InlineData("wait=10x", "wait")]
    public async Task Events_BadQueryValue_400NamingTheParameter(string query, string field)
    {
        using var viewer = _server.Client(_server.AdminToken);

        using var response = await viewer.GetAsync("/v1/events?" + query);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(field, Assert.Single(problem.GetProperty("errors").EnumerateArray()).GetProperty("field").GetString());
        Assert.Contains(field, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Events_SeveralBadValues_EveryParameterNamed()
    {
        using var viewer = _server.Client(_server.AdminToken);

        using var response = await viewer.GetAsync("/v1/events?index=-1&limit=0&tail=-2");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(["index", "limit", "tail"], problem.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("field").GetString()!).Order());
    }

    [Fact]
    public async Task Events_FilteredBlockingQuery_IgnoresOtherEventsAndReturnsTheMatchingOne()
    {
        using var admin = _server.Client(_server.AdminToken);
        var deploy = await admin.PostAsync("/v1/stacks/deploy", ServerHost.Json(new DeployRequest("""
            stack: evq
            services:
              evq-worker:
                command: /bin/sleep
                args: ["3600"]
            """, "evq.yaml", false), CoreJson.Default.DeployRequest));
        deploy.EnsureSuccessStatusCode();
        var now = await admin.GetFromJsonAsync("/v1/events?tail=1", CoreJson.Default.EventPage);
        Assert.Single(now!.Events);

        var waiting = admin.GetFromJsonAsync($"/v1/events?index={now.Index}&wait=20s&type=service.scaled&service=evq-worker", CoreJson.Default.EventPage);
        // An event the filter leaves out does not answer the query.
        (await admin.PostAsJsonAsync("/v1/apikeys", new ApiKeyCreateRequest("evq-" + Guid.NewGuid().ToString("N")[..6], "viewer"), CoreJson.Default.ApiKeyCreateRequest)).EnsureSuccessStatusCode();
        await Task.Delay(500);
        Assert.False(waiting.IsCompleted);
        (await admin.PutAsJsonAsync("/v1/services/evq-worker/scale", new ScaleRequest(3), CoreJson.Default.ScaleRequest)).EnsureSuccessStatusCode();
        var page = await waiting.WaitAsync(TimeSpan.FromSeconds(15));

        var scaled = Assert.Single(page!.Events);
        Assert.Equal("service.scaled", scaled.Kind);
        Assert.Equal("evq-worker", scaled.Service);
        Assert.NotEmpty(scaled.Id);

        var replicas = await admin.GetFromJsonAsync($"/v1/events?type=replica&service=evq-worker&since=10m", CoreJson.Default.EventPage);
        Assert.NotEmpty(replicas!.Events);
        Assert.All(replicas.Events, e => Assert.StartsWith("replica.", e.Kind, StringComparison.Ordinal));
        Assert.All(replicas.Events, e => Assert.Equal("evq-worker", e.Service));
        var json = await admin.GetStringAsync("/v1/events?tail=1&type=service");
        Assert.Contains("\"id\":", json, StringComparison.Ordinal);
    }

    public sealed class Server : IAsyncLifetime
    {
        internal ServerHost Host { get; private set; } = null!;

        public async Task InitializeAsync() => Host = await ServerHost.StartAsync();

        public async Task DisposeAsync() => await Host.DisposeAsync();
    }
}
