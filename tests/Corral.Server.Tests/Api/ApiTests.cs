using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Corral.Core;
using Corral.Core.Api;

namespace Corral.Server.Tests.Api;

public sealed class ApiTests : IAsyncLifetime
{
    private const string Shop = """
        stack: shop
        services:
          web:
            command: corral
            args: [demo-web, --port, "${PORT}"]
            replicas: 3
            ports: [http]
            health: { http: /health }
          worker:
            command: /bin/sleep
            args: ["3600"]
        """;

    private ServerHost _server = null!;

    public async Task InitializeAsync() => _server = await ServerHost.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<(HttpStatusCode Status, DeployResult? Result, JsonElement Problem)> DeployAsync(HttpClient client, string yaml, bool prune = false, string path = "/v1/stacks/deploy")
    {
        var response = await client.PostAsync(path, ServerHost.Json(new DeployRequest(yaml, "shop.yaml", prune), CoreJson.Default.DeployRequest));
        var text = await response.Content.ReadAsStringAsync();
        return response.IsSuccessStatusCode
            ? (response.StatusCode, JsonSerializer.Deserialize(text, CoreJson.Default.DeployResult), default)
            : (response.StatusCode, null, JsonDocument.Parse(text).RootElement.Clone());
    }

    [Fact]
    public async Task Healthz_NeedsNoKey()
    {
        using var anonymous = _server.Client();
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/readyz")).StatusCode);
    }

    [Theory]
    [InlineData("GET", "/v1/status")]
    [InlineData("GET", "/v1/nodes")]
    [InlineData("GET", "/v1/services")]
    [InlineData("GET", "/v1/services/web")]
    [InlineData("GET", "/v1/replicas")]
    [InlineData("GET", "/v1/events")]
    [InlineData("GET", "/v1/apikeys")]
    [InlineData("POST", "/v1/apikeys")]
    [InlineData("DELETE", "/v1/apikeys/x")]
    [InlineData("POST", "/v1/stacks/deploy")]
    [InlineData("POST", "/v1/stacks/diff")]
    [InlineData("PUT", "/v1/services/web/scale")]
    [InlineData("POST", "/v1/services/web/restart")]
    [InlineData("DELETE", "/v1/services/web")]
    [InlineData("GET", "/openapi/v1.json")]
    public async Task EveryEndpoint_WithoutKey_Is401WithProblem(string method, string path)
    {
        using var anonymous = _server.Client();

        var response = await anonymous.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task WrongKey_Is401()
    {
        using var wrong = _server.Client("crl_0123456789ab_" + new string('a', 43));
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync("/v1/services")).StatusCode);
    }

    [Theory]
    [InlineData("POST", "/v1/stacks/deploy")]
    [InlineData("PUT", "/v1/services/web/scale")]
    [InlineData("POST", "/v1/services/web/restart")]
    [InlineData("DELETE", "/v1/services/web")]
    [InlineData("POST", "/v1/apikeys")]
    public async Task Mutation_WithViewerKey_Is403(string method, string path)
    {
        using var viewer = _server.Client(await _server.CreateKeyAsync("ro", "viewer"));

        var response = await viewer.SendAsync(new HttpRequestMessage(new HttpMethod(method), path) { Content = new StringContent("{}") });

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("key 'ro' is viewer", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deploy_Twice_SecondChangesNothing()
    {
        using var op = _server.Client(await _server.CreateKeyAsync("ci", "operator"));

        var first = await DeployAsync(op, Shop);
        var revisionAfterFirst = first.Result!.Revision;
        var second = await DeployAsync(op, Shop);

        Assert.True(first.Result.Changed);
        Assert.False(second.Result!.Changed);
        Assert.Equal(revisionAfterFirst, second.Result.Revision);
        Assert.All(second.Result.Changes, c => Assert.Equal(ServiceChangeKind.Unchanged, c.Kind));
        var services = await op.GetFromJsonAsync("/v1/services", CoreJson.Default.ListServiceView);
        Assert.Equal(["web", "worker"], services!.Select(s => s.Spec.Name));
        Assert.Equal(3, services![0].Desired);
    }

    [Fact]
    public async Task Diff_ShowsChangesWithoutApplying()
    {
        using var admin = _server.Client(_server.AdminToken);
        await DeployAsync(admin, Shop);

        var diff = await DeployAsync(admin, Shop.Replace("replicas: 3", "replicas: 5", StringComparison.Ordinal), path: "/v1/stacks/diff");

        Assert.True(diff.Result!.Changed);
        Assert.Equal(ServiceChangeKind.Scale, diff.Result.Changes[0].Kind);
        var web = await admin.GetFromJsonAsync("/v1/services/web", CoreJson.Default.ServiceView);
        Assert.Equal(3, web!.Desired);
    }

    [Fact]
    public async Task Deploy_BadStack_Is400WithEveryLocatedError_AndChangesNothing()
    {
        using var admin = _server.Client(_server.AdminToken);
        var before = await admin.GetFromJsonAsync("/v1/events", CoreJson.Default.EventPage);

        var (status, _, problem) = await DeployAsync(admin, "stack: shop\nservices:\n  web:\n    comand: x\n    replicas: many\n");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        var errors = problem.GetProperty("errors").EnumerateArray().ToList();
        Assert.Contains(errors, e => e.GetProperty("field").GetString() == "services.web.comand"
            && e.GetProperty("message").GetString()!.Contains("did you mean 'command'", StringComparison.Ordinal)
            && e.GetProperty("line").GetInt32() == 4 && e.GetProperty("file").GetString() == "shop.yaml");
        Assert.Contains(errors, e => e.GetProperty("field").GetString() == "services.web.replicas");
        var after = await admin.GetFromJsonAsync("/v1/events", CoreJson.Default.EventPage);
        Assert.Equal(before!.Events.Count(e => e.Actor.StartsWith("key:", StringComparison.Ordinal)), after!.Events.Count(e => e.Actor.StartsWith("key:", StringComparison.Ordinal)));
        Assert.Empty((await admin.GetFromJsonAsync("/v1/services", CoreJson.Default.ListServiceView))!);
    }

    [Fact]
    public async Task BadJsonBody_Is400NamingTheLocation()
    {
        using var admin = _server.Client(_server.AdminToken);

        var response = await admin.PutAsync("/v1/services/web/scale", new StringContent("{\"replicas\": \"three\"}", System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("replicas", problem.GetProperty("errors")[0].GetProperty("field").GetString());
    }

    /// <summary>Issue 12 defect 1: a missing or misspelled field scaled the service to 0 (200, "scaled 3 → 0").</summary>
    [Theory]
    [InlineData("{}", "replicas", "required")]
    [InlineData("{\"replica\": 2}", "replica", "did you mean 'replicas'")]
    [InlineData("{\"Replicas\": 2}", "Replicas", "did you mean 'replicas'")]
    [InlineData("{\"replicas\": 2, \"replicas\": 0}", "replicas", "more than once")]
    [InlineData("{\"replicas\": null}", "replicas", "must not be null")]
    [InlineData("{\"replicas\": 2, \"force\": true}", "force", "unknown field")]
    public async Task Scale_BodyWithAMissingOrUnknownField_Is400NamingIt_NothingChanges(string body, string field, string message)
    {
        using var admin = _server.Client(_server.AdminToken);
        await DeployAsync(admin, Shop);
        var before = await _server.CallerStateAsync();

        var response = await admin.PutAsync("/v1/services/web/scale", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("errors")[0];
        Assert.Equal(field, error.GetProperty("field").GetString());
        Assert.Contains(message, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(3, (await admin.GetFromJsonAsync("/v1/services/web", CoreJson.Default.ServiceView))!.Desired);
        Assert.Equal(before, await _server.CallerStateAsync());
    }

    /// <summary>Issue 12 defect 1: the OpenAPI document marks the members a body must have, and allows no others.</summary>
    [Fact]
    public async Task OpenApi_MarksRequiredMembers()
    {
        using var admin = _server.Client(_server.AdminToken);

        var document = JsonDocument.Parse(await admin.GetStringAsync("/openapi/v1.json")).RootElement;

        JsonElement BodyOf(string path, string method)
        {
            var body = document.GetProperty("paths").GetProperty(path).GetProperty(method).GetProperty("requestBody");
            Assert.True(body.GetProperty("required").GetBoolean());
            var schema = body.GetProperty("content").GetProperty("application/json").GetProperty("schema");
            return schema.TryGetProperty("$ref", out var reference)
                ? document.GetProperty("components").GetProperty("schemas").GetProperty(reference.GetString()!.Split('/')[^1])
                : schema;
        }
        var scale = BodyOf("/v1/services/{name}/scale", "put");
        Assert.Equal(["replicas"], scale.GetProperty("required").EnumerateArray().Select(e => e.GetString()));
        Assert.False(scale.GetProperty("additionalProperties").GetBoolean());
        var deploy = BodyOf("/v1/stacks/deploy", "post");
        Assert.Equal(["yaml"], deploy.GetProperty("required").EnumerateArray().Select(e => e.GetString()));
    }

    /// <summary>Issue 12 defect 6: certificate renewal judged the body first ({} without a certificate was 400).</summary>
    [Fact]
    public async Task Renew_BadBodyWithoutCertificate_Is401()
    {
        using var anonymous = _server.Client();

        using var response = await anonymous.PostAsync("/v1/agent/renew", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("client certificate", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    /// <summary>Issue 12 defect 2: each of these answered 500; now a 400 or 413 that says where, and nothing changes.</summary>
    [Fact]
    public async Task OversizedOrBrokenInput_Is4xxNamingTheFieldOrLine_NothingChanges()
    {
        using var admin = _server.Client(_server.AdminToken);
        await DeployAsync(admin, Shop);
        var before = await _server.CallerStateAsync();

        // A 10 MB env value: over the API's body limit.
        var hugeEnv = Shop.Replace("    health: { http: /health }", "    health: { http: /health }\n    env: { BIG: \"" + new string('x', 10_000_000) + "\" }", StringComparison.Ordinal);
        Assert.NotEqual(Shop, hugeEnv);
        var (status, _, problem) = await DeployAsync(admin, hugeEnv);
        Assert.True(HttpStatusCode.RequestEntityTooLarge == status, $"{status}: {problem}");
        Assert.Contains("4 MiB", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // 1.5 MB of file content: under the body limit, over what the store keeps for one service.
        var bigFile = Shop + "\n    files:\n      - path: big.txt\n        content: \"" + new string('y', 1_500_000) + "\"\n";
        (status, _, problem) = await DeployAsync(admin, bigFile);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        var error = problem.GetProperty("errors")[0];
        Assert.Equal("services.worker.files[0].content", error.GetProperty("field").GetString());
        Assert.Contains("at most 1 MiB", error.GetProperty("message").GetString(), StringComparison.Ordinal);

        // A flow list left open before more keys: the YAML library threw InvalidOperationException.
        var unclosed = "stack: shop\nservices:\n  web:\n    command: python3\n    args: [-m, http.server\n    replicas: 2\n    ports: [http]\n";
        foreach (var path in new[] { "/v1/stacks/deploy", "/v1/stacks/diff" })
        {
            (status, _, problem) = await DeployAsync(admin, unclosed, path: path);
            Assert.Equal(HttpStatusCode.BadRequest, status);
            error = problem.GetProperty("errors")[0];
            Assert.Contains("not valid YAML", error.GetProperty("message").GetString(), StringComparison.Ordinal);
            Assert.True(error.GetProperty("line").GetInt32() >= 5, problem.ToString());
        }

        // A 5,000-character name in a route: over the store's key limit.
        var longName = await admin.DeleteAsync("/v1/services/" + new string('a', 5000));
        Assert.Equal(HttpStatusCode.BadRequest, longName.StatusCode);
        Assert.Equal("name", JsonDocument.Parse(await longName.Content.ReadAsStringAsync()).RootElement.GetProperty("errors")[0].GetProperty("field").GetString());
        foreach (var bad in new[] { "Web", "web%00x", "a%0Ab", "web_1" })
        {
            Assert.Equal(HttpStatusCode.BadRequest, (await admin.GetAsync("/v1/services/" + bad)).StatusCode);
        }

        Assert.Equal(before, await _server.CallerStateAsync());
        Assert.Equal(2, (await admin.GetFromJsonAsync("/v1/services", CoreJson.Default.ListServiceView))!.Count);
    }

    /// <summary>
    /// Issue 12 defect 3: a 1 MB anchor referenced 200 times took 4.9 s and 589 MiB, then a 500, while diff said 200.
    /// Both routes now refuse it the same way, naming the alias that crossed the bound.
    /// </summary>
    [Fact]
    public async Task AliasBomb_RefusedByDeployAndDiffAlike_NothingChanges()
    {
        using var admin = _server.Client(_server.AdminToken);
        var yaml = new System.Text.StringBuilder("stack: bomb\nx-big: &big \"").Append('z', 1_000_000).Append("\"\nservices:\n  web:\n    command: sleep\n    args: [");
        yaml.AppendJoin(", ", Enumerable.Repeat("*big", 200)).Append("]\n");
        var before = await _server.CallerStateAsync();

        var deploy = await DeployAsync(admin, yaml.ToString());
        var diff = await DeployAsync(admin, yaml.ToString(), path: "/v1/stacks/diff");

        Assert.Equal(HttpStatusCode.BadRequest, deploy.Status);
        Assert.Equal(HttpStatusCode.BadRequest, diff.Status);
        Assert.Equal(deploy.Problem.GetProperty("errors").ToString(), diff.Problem.GetProperty("errors").ToString());
        var error = deploy.Problem.GetProperty("errors")[0];
        Assert.Contains("aliases expanded", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(6, error.GetProperty("line").GetInt32());
        Assert.Equal(before, await _server.CallerStateAsync());
    }

    [Fact]
    public async Task Scale_IsIdempotent_AndRecordsWhoDidIt()
    {
        using var op = _server.Client(await _server.CreateKeyAsync("alice", "operator"));
        await DeployAsync(op, Shop);

        var first = await op.PutAsync("/v1/services/web/scale", ServerHost.Json(new ScaleRequest(5), CoreJson.Default.ScaleRequest));
        var events1 = await op.GetFromJsonAsync("/v1/events", CoreJson.Default.EventPage);
        var second = await op.PutAsync("/v1/services/web/scale", ServerHost.Json(new ScaleRequest(5), CoreJson.Default.ScaleRequest));
        var events2 = await op.GetFromJsonAsync("/v1/events", CoreJson.Default.EventPage);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(events1!.Events.Count(e => e.Actor.StartsWith("key:", StringComparison.Ordinal)), events2!.Events.Count(e => e.Actor.StartsWith("key:", StringComparison.Ordinal)));
        var scaled = Assert.Single(events2.Events, e => e.Kind == "service.scaled");
        Assert.Equal("key:alice", scaled.Actor);
        Assert.Equal(5, (await op.GetFromJsonAsync("/v1/services/web", CoreJson.Default.ServiceView))!.Desired);
    }

    /// <summary>Scaling to one replica makes a singleton, whose timing must exclude an overlap like a deploy's (issue 22 item 2).</summary>
    [Fact]
    public async Task Scale_ToOneWhenTheTimingAllowsAnOverlap_Is400WithTheReason_NothingChanges()
    {
        using var admin = _server.Client(_server.AdminToken);
        await DeployAsync(admin, "stack: slow\nservices:\n  slow:\n    command: sleep\n    args: [\"1000\"]\n    replicas: 2\n    stop_timeout: 20s\n    eviction_timeout: 10s\n");

        var response = await admin.PutAsync("/v1/services/slow/scale", ServerHost.Json(new ScaleRequest(1), CoreJson.Default.ScaleRequest));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Contains("a singleton could run twice", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("replicas", problem.GetProperty("errors")[0].GetProperty("field").GetString());
        Assert.Equal(2, (await admin.GetFromJsonAsync("/v1/services/slow", CoreJson.Default.ServiceView))!.Desired);
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsync("/v1/services/slow/scale", ServerHost.Json(new ScaleRequest(3), CoreJson.Default.ScaleRequest))).StatusCode);
    }

    [Fact]
    public async Task Scale_OutOfRange_Is400_UnknownService_Is404()
    {
        using var admin = _server.Client(_server.AdminToken);
        await DeployAsync(admin, Shop);

        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PutAsync("/v1/services/web/scale", ServerHost.Json(new ScaleRequest(-1), CoreJson.Default.ScaleRequest))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PutAsync("/v1/services/nope/scale", ServerHost.Json(new ScaleRequest(1), CoreJson.Default.ScaleRequest))).StatusCode);
    }

    [Fact]
    public async Task Prune_RemovesOnlyWithTheFlag()
    {
        using var admin = _server.Client(_server.AdminToken);
        await DeployAsync(admin, Shop);
        var onlyWeb = Shop[..Shop.IndexOf("  worker:", StringComparison.Ordinal)];

        var kept = await DeployAsync(admin, onlyWeb);
        Assert.False(kept.Result!.Changed);
        Assert.Equal(2, (await admin.GetFromJsonAsync("/v1/services", CoreJson.Default.ListServiceView))!.Count);

        var pruned = await DeployAsync(admin, onlyWeb, prune: true);
        Assert.True(pruned.Result!.Changed);
        Assert.Equal(["web"], (await admin.GetFromJsonAsync("/v1/services", CoreJson.Default.ListServiceView))!.Select(s => s.Spec.Name));
    }

    [Fact]
    public async Task Restart_MakesANewVersion_DeleteRemoves()
    {
        using var admin = _server.Client(_server.AdminToken);
        await DeployAsync(admin, Shop);
        var before = (await admin.GetFromJsonAsync("/v1/services/web", CoreJson.Default.ServiceView))!.Version;

        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync("/v1/services/web/restart", null)).StatusCode);
        var after = (await admin.GetFromJsonAsync("/v1/services/web", CoreJson.Default.ServiceView))!.Version;
        Assert.NotEqual(before, after);
        Assert.False((await DeployAsync(admin, Shop)).Result!.Changed);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync("/v1/services/web")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.DeleteAsync("/v1/services/web")).StatusCode);
    }

    [Fact]
    public async Task Events_BlockingQuery_ReturnsWhenSomethingHappens()
    {
        using var admin = _server.Client(_server.AdminToken);
        // The server's own start-up events (its leader election) come first; wait for them to settle.
        EventPage? page = null;
        for (var i = 0; i < 100; i++)
        {
            page = await admin.GetFromJsonAsync("/v1/events", CoreJson.Default.EventPage);
            if (page!.Events.Any(e => e.Kind == "leader.elected"))
            {
                break;
            }
            await Task.Delay(100);
        }
        Assert.Contains(page!.Events, e => e.Kind == "leader.elected");

        var waiting = admin.GetFromJsonAsync($"/v1/events?index={page!.Index}&wait=20s", CoreJson.Default.EventPage);
        await Task.Delay(300);
        Assert.False(waiting.IsCompleted);
        await DeployAsync(admin, Shop);
        var next = await waiting.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Contains(next!.Events, e => e.Kind == "stack.deployed");
        Assert.True(next.Index > page.Index);
    }

    [Fact]
    public async Task ApiKeys_CreateListRevoke()
    {
        using var admin = _server.Client(_server.AdminToken);
        var token = await _server.CreateKeyAsync("temp", "viewer");
        using var temp = _server.Client(token);
        Assert.Equal(HttpStatusCode.OK, (await temp.GetAsync("/v1/services")).StatusCode);

        var keys = await admin.GetFromJsonAsync("/v1/apikeys", CoreJson.Default.ListApiKeyView);
        var id = keys!.Single(k => k.Name == "temp").Id;
        Assert.DoesNotContain(token, JsonSerializer.Serialize(keys, CoreJson.Default.ListApiKeyView), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/v1/apikeys/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/v1/apikeys/{id}")).StatusCode);

        Assert.Equal(HttpStatusCode.Unauthorized, (await temp.GetAsync("/v1/services")).StatusCode);
    }

    [Fact]
    public async Task ApiKeys_BadRole_Is400()
    {
        using var admin = _server.Client(_server.AdminToken);

        var response = await admin.PostAsync("/v1/apikeys", ServerHost.Json(new ApiKeyCreateRequest("x", "root"), CoreJson.Default.ApiKeyCreateRequest));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("'root' is not one of metrics, viewer, operator, admin", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenApi_IsServedToViewers()
    {
        using var viewer = _server.Client(await _server.CreateKeyAsync("ro", "viewer"));

        var text = await viewer.GetStringAsync("/openapi/v1.json");

        Assert.Contains("/v1/stacks/deploy", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_ReportsStoreAndServices()
    {
        using var admin = _server.Client(_server.AdminToken);
        await DeployAsync(admin, Shop);

        var status = await admin.GetFromJsonAsync("/v1/status", CoreJson.Default.ClusterStatus);

        Assert.Equal("sqlite", status!.StoreKind);
        Assert.True(status.StoreHealthy);
        Assert.Equal(["web", "worker"], status.Services.Select(s => s.Name));
    }
}
