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
/// the parser refuses, each answered 4xx, with nothing in the cluster state changed.
/// </summary>
public sealed class MalformedInputCorpusTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Shop = "stack: shop\nservices:\n  web:\n    command: sleep\n    args: [\"1000\"]\n    replicas: 3\n";

    private ServerHost _server = null!;

    public async Task InitializeAsync() => _server = await ServerHost.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private sealed record Case(string Route, HttpMethod Method, string Path, bool AsNode, string Body);

    [Fact]
    public async Task TenThousandMalformedRequests_AreAll4xx_AndChangeNothing()
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
        }, iter: 10_000, threads: 4);

        foreach (var group in statuses.OrderBy(s => s.Key.Route, StringComparer.Ordinal).ThenBy(s => s.Key.Status))
        {
            output.WriteLine($"{group.Key.Route,-28} {group.Key.Status} × {group.Value}");
        }
        Assert.True(failures.IsEmpty, string.Join("\n", failures.Take(10)));
        Assert.Equal(10_000, statuses.Values.Sum());
        Assert.Equal(before, await StateAsync());
    }

    /// <summary>Everything requests could have written: the request-owned prefixes, the nodes, and events caused by callers.</summary>
    private async Task<string> StateAsync()
    {
        using var admin = _server.Client(_server.AdminToken);
        var nodes = await _server.State.Store.RangeAsync(Corral.Server.State.Keys.Nodes);
        var events = (await admin.GetFromJsonAsync("/v1/events?limit=10000", CoreJson.Default.EventPage))!.Events
            .Where(e => e.Actor.StartsWith("key:", StringComparison.Ordinal) || e.Actor.StartsWith("node:", StringComparison.Ordinal))
            .Select(e => $"{e.Kind} {e.Subject} {e.Actor}");
        return string.Join("\n", [await _server.RequestStateAsync(), .. nodes.Kvs.Select(kv => $"{kv.Key}@{kv.ModRevision}"), .. events]);
    }

    private static string Shorten(string text) => text.Length > 300 ? text[..300] + "…" : text;
}
