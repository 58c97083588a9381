using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Corral.Core;
using Corral.Core.Api;

namespace Corral.Server.Tests.Api;

/// <summary>The API writes durations and enums as stack files do (<c>30s</c>, <c>on-failure</c>) and still reads the old forms.</summary>
public sealed class JsonFormsApiTests : IAsyncLifetime
{
    private const string Stack = """
        stack: shop
        services:
          web:
            command: /bin/sleep
            args: ["3600"]
            replicas: 2
            eviction_timeout: 45s
            stop_timeout: 1m30s
            restart: { policy: on-failure, backoff: 500ms }
        """;

    private ServerHost _server = null!;

    public async Task InitializeAsync() => _server = await ServerHost.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task ServiceView_ShowsStackFileForms()
    {
        using var admin = _server.Client(_server.AdminToken);
        var deploy = await admin.PostAsync("/v1/stacks/deploy", ServerHost.Json(new DeployRequest(Stack, "shop.yaml"), CoreJson.Default.DeployRequest));
        Assert.Equal(HttpStatusCode.OK, deploy.StatusCode);
        Assert.Equal("create", (string?)JsonNode.Parse(await deploy.Content.ReadAsStringAsync())!["changes"]![0]!["kind"]);

        var service = JsonNode.Parse(await admin.GetStringAsync("/v1/services/web"))!;

        var spec = service["spec"]!;
        Assert.Equal("replicated", (string?)spec["mode"]);
        Assert.Equal("45s", (string?)spec["eviction_timeout"]);
        Assert.Equal("1m30s", (string?)spec["task"]!["stop_timeout"]);
        Assert.Equal("on-failure", (string?)spec["task"]!["restart"]!["mode"]);
        Assert.Equal("500ms", (string?)spec["task"]!["restart"]!["backoff"]);
        Assert.Equal("5m", (string?)spec["task"]!["restart"]!["window"]);
        var nodes = JsonNode.Parse(await admin.GetStringAsync("/v1/replicas?service=web"))!.AsArray();
        Assert.All(nodes, r => Assert.Equal("pending", (string?)r!["replica"]!["phase"]));
    }

    [Fact]
    public async Task ServiceStoredByAnEarlierVersion_IsServedInTheNewForms()
    {
        // A record as earlier versions stored it: "00:00:45" and PascalCase.
        var old = """
            {"name":"old","stack":"legacy","task":{"command":"/bin/true","stop_timeout":"00:00:10",
             "restart":{"mode":"OnFailure","window":"00:05:00","backoff":"00:00:01","max_backoff":"00:00:30"}},
             "mode":"Replicated","replicas":0,"eviction_timeout":"00:00:45"}
            """;
        await _server.State.Store.PutAsync(Corral.Server.State.Keys.Service("old"), Encoding.UTF8.GetBytes(old));
        using var admin = _server.Client(_server.AdminToken);

        var service = JsonNode.Parse(await admin.GetStringAsync("/v1/services/old"))!;

        Assert.Equal("45s", (string?)service["spec"]!["eviction_timeout"]);
        Assert.Equal("on-failure", (string?)service["spec"]!["task"]!["restart"]!["mode"]);
        Assert.Equal("10s", (string?)service["spec"]!["task"]!["stop_timeout"]);
    }
}
