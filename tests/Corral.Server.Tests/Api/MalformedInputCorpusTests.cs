using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using Corral.Core;
using Corral.Core.Api;
using Corral.Core.Stacks;
using Corral.Testing;
using CsCheck;
using Xunit.Abstractions;

namespace Corral.Server.Tests.Api;

/// <summary>
/// Issue 12, "no input reachable from the API may produce a 500": ten thousand generated broken requests, spread over
/// every route that takes a body (operator API, join, agent protocol with a real node certificate) and stack files that
/// the parser refuses, each answered 4xx, with nothing in the cluster state changed; on SQLite (10,000) and on etcd (2,000).
/// </summary>
public abstract class MalformedInputCorpusTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Shop = "stack: shop\nservices:\n  web:\n    command: sleep\n    args: [\"1000\"]\n    replicas: 3\n";

    private ServerHost _server = null!;

    private protected abstract Task<ServerHost> StartServerAsync();

    /// <summary>How many generated requests this backend is given (10,000 on SQLite; fewer on etcd, where each costs more).</summary>
    private protected abstract int Requests { get; }

    public async Task InitializeAsync() => _server = await StartServerAsync();

    public virtual async Task DisposeAsync() => await _server.DisposeAsync();

    /// <summary>The inputs the issue quotes, each once: every one was a 200 that scaled to 0, or a 500.</summary>
    [Fact]
    public async Task TheIssuesInputs_Are4xxNamingTheField_AndChangeNothing()
    {
        using var admin = _server.Client(_server.AdminToken);
        Assert.True((await admin.PostAsync("/v1/stacks/deploy", ServerHost.Json(new DeployRequest(Shop, "shop.yaml"), CoreJson.Default.DeployRequest))).IsSuccessStatusCode);
        var before = await _server.CallerStateAsync();
        string Deploy(string yaml) => System.Text.Json.JsonSerializer.Serialize(new DeployRequest(yaml, "shop.yaml"), CoreJson.Default.DeployRequest);
        var bomb = new StringBuilder("stack: bomb\nx: &big \"").Append('z', 1_000_000).Append("\"\nservices:\n  web:\n    command: sleep\n    args: [")
            .AppendJoin(", ", Enumerable.Repeat("*big", 200)).Append("]\n").ToString();
        (HttpMethod Method, string Path, string Body, int Status, string Field)[] inputs =
        [
            (HttpMethod.Put, "/v1/services/web/scale", "{}", 400, "replicas"),
            (HttpMethod.Put, "/v1/services/web/scale", "{\"replica\": 2}", 400, "replica"),
            (HttpMethod.Put, "/v1/services/web/scale", "{\"Replicas\": 2}", 400, "Replicas"),
            (HttpMethod.Post, "/v1/stacks/deploy", Deploy(Shop + "    env: { BIG: \"" + new string('x', 10_000_000) + "\" }\n"), 413, ""),
            (HttpMethod.Post, "/v1/stacks/deploy", Deploy(Shop + "    files:\n      - { path: big, content: \"" + new string('y', 1_500_000) + "\" }\n"), 400, "services.web.files[0].content"),
            (HttpMethod.Delete, "/v1/services/" + new string('a', 5000), "", 400, "name"),
            (HttpMethod.Post, "/v1/stacks/deploy", Deploy("stack: shop\nservices:\n  web:\n    command: python3\n    args: [-m, http.server\n    replicas: 2\n"), 400, ""),
            (HttpMethod.Post, "/v1/stacks/deploy", Deploy(bomb), 400, ""),
            (HttpMethod.Post, "/v1/stacks/diff", Deploy(bomb), 400, ""),
        ];
        foreach (var (method, path, body, status, field) in inputs)
        {
            using var request = new HttpRequestMessage(method, path) { Content = body.Length == 0 ? null : new StringContent(body, Encoding.UTF8, "application/json") };
            using var response = await admin.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(status == (int)response.StatusCode, $"{method} {path} {Shorten(body)}: {(int)response.StatusCode} {Shorten(text)}");
            if (field.Length > 0)
            {
                Assert.Equal(field, System.Text.Json.JsonDocument.Parse(text).RootElement.GetProperty("errors")[0].GetProperty("field").GetString());
            }
        }
        Assert.Equal(3, (await admin.GetFromJsonAsync("/v1/services/web", CoreJson.Default.ServiceView))!.Desired);
        Assert.Equal(before, await _server.CallerStateAsync());
    }

    private sealed record Case(string Route, HttpMethod Method, string Path, bool AsNode, string Body);

    [Fact]
    public async Task GeneratedMalformedRequests_AreAll4xx_AndChangeNothing()
    {
        using var admin = _server.Client(_server.AdminToken);
        Assert.True((await admin.PostAsync("/v1/stacks/deploy", ServerHost.Json(new DeployRequest(Shop, "shop.yaml"), CoreJson.Default.DeployRequest))).IsSuccessStatusCode);
        var node = _server.NodeClient(await _server.JoinNodeAsync("n1"));
        var before = await StateAsync();

        var shopJson = System.Text.Json.JsonSerializer.Serialize(new DeployRequest(Shop, "shop.yaml"), CoreJson.Default.DeployRequest);
        Gen<Case> Route(string route, HttpMethod method, string path, bool asNode, Gen<string> body) =>
            body.Select(b => new Case(route, method, path, asNode, b));
        var brokenStacks = MalformedInputs.StackFile.Where(y => !StackParser.Parse(y, "corpus.yaml").Succeeded)
            .Select(y => System.Text.Json.JsonSerializer.Serialize(new DeployRequest(y, "corpus.yaml"), CoreJson.Default.DeployRequest));
        var cases = Gen.OneOf<Case>(
            Route("deploy: broken stack file", HttpMethod.Post, "/v1/stacks/deploy", false, brokenStacks),
            Route("diff: broken stack file", HttpMethod.Post, "/v1/stacks/diff", false, brokenStacks),
            Route("deploy: broken body", HttpMethod.Post, "/v1/stacks/deploy", false, MalformedInputs.Body(shopJson, "yaml")),
            Route("scale", HttpMethod.Put, "/v1/services/web/scale", false, MalformedInputs.Body("{\"replicas\": 2}", "replicas")),
            Route("apikeys", HttpMethod.Post, "/v1/apikeys", false, MalformedInputs.Body("{\"name\": \"k1\", \"role\": \"viewer\"}", "name", "role")),
            Route("tokens", HttpMethod.Post, "/v1/tokens", false, MalformedInputs.Body("{\"ttl\": \"1h\", \"uses\": 1, \"role\": \"agent\"}")),
            Route("labels", HttpMethod.Put, "/v1/nodes/n1/labels", false, MalformedInputs.Body("{\"labels\": {\"zone\": \"a\"}}", "labels")),
            Route("join", HttpMethod.Post, "/v1/join", false, MalformedInputs.Body("{\"token\": \"corral-join-x\", \"node\": \"n2\", \"csr_pem\": \"x\", \"labels\": {}}", "token", "node", "csr_pem")),
            Route("join/server", HttpMethod.Post, "/v1/join/server", false, MalformedInputs.Body("{\"token\": \"x\", \"name\": \"s2\", \"peer_url\": \"https://127.0.0.1:1\", \"client_url\": \"https://127.0.0.1:2\"}", "token", "name", "peer_url", "client_url")),
            Route("agent/register", HttpMethod.Post, "/v1/agent/register", true, MalformedInputs.Body("{\"node\": \"n1\", \"addresses\": [\"127.0.0.1\"], \"cpu_cores\": 1, \"memory_bytes\": 1000, \"labels\": {}}", "node", "addresses", "cpu_cores", "memory_bytes", "labels")),
            Route("agent/heartbeat", HttpMethod.Post, "/v1/agent/heartbeat", true, MalformedInputs.Body("{\"node\": \"n1\", \"replicas\": []}", "node", "replicas")),
            Route("agent/logs", HttpMethod.Post, "/v1/agent/logs", true, MalformedInputs.Body("{\"node\": \"n1\", \"chunks\": []}", "node", "chunks")));

        var statuses = new ConcurrentDictionary<(string Route, int Status), int>();
        var failures = new ConcurrentQueue<string>();
        await cases.SampleAsync(async c =>
        {
            using var request = new HttpRequestMessage(c.Method, c.Path) { Content = new StringContent(c.Body, Encoding.UTF8, "application/json") };
            using var response = await (c.AsNode ? node : admin).SendAsync(request);
            var status = (int)response.StatusCode;
            statuses.AddOrUpdate((c.Route, status), 1, (_, n) => n + 1);
            if (status is < 400 or >= 500)
            {
                failures.Enqueue($"{c.Route} answered {status} to {Shorten(c.Body)}: {Shorten(await response.Content.ReadAsStringAsync())}");
            }
        }, iter: Requests, threads: 4);

        foreach (var group in statuses.OrderBy(s => s.Key.Route, StringComparer.Ordinal).ThenBy(s => s.Key.Status))
        {
            output.WriteLine($"{group.Key.Route,-28} {group.Key.Status} × {group.Value}");
        }
        Assert.True(failures.IsEmpty, string.Join("\n", failures.Take(10)));
        Assert.Equal(Requests, statuses.Values.Sum());
        Assert.Equal(before, await StateAsync());
    }

    private Task<string> StateAsync() => _server.CallerStateAsync();

    private static string Shorten(string text) => text.Length > 300 ? text[..300] + "…" : text;
}

public sealed class SqliteMalformedInputCorpusTests(ITestOutputHelper output) : MalformedInputCorpusTests(output)
{
    private protected override int Requests => 10_000;

    private protected override Task<ServerHost> StartServerAsync() => ServerHost.StartAsync();
}

public sealed class EtcdMalformedInputCorpusTests(ITestOutputHelper output) : MalformedInputCorpusTests(output)
{
    private EtcdCluster? _etcd;

    private protected override int Requests => 2_000;

    private protected override async Task<ServerHost> StartServerAsync()
    {
        _etcd = await EtcdCluster.StartAsync(1, new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        return await ServerHost.StartAsync(StoreConfig.Parse("etcd://" + new Uri(_etcd.ClientUrls[0]).Authority, tls: false));
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_etcd is not null)
        {
            await _etcd.DisposeAsync();
        }
    }
}
