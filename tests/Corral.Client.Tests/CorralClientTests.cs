using System.Net;
using System.Net.Sockets;
using Corral.Core.Api;
using Corral.Core.Cluster;
using Corral.Testing;

namespace Corral.Client.Tests;

public sealed class CorralClientTests : IAsyncLifetime
{
    internal const string Shop = """
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

    private static readonly CancellationToken None = CancellationToken.None;
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task GetStatus_FreshCluster_ReportsStoreAndNoServices()
    {
        using var client = _server.Client();

        var status = await client.GetStatusAsync(None);

        Assert.Equal("sqlite", status.StoreKind);
        Assert.True(status.StoreHealthy);
        Assert.Empty(status.Services);
        Assert.True(status.Revision > 0);
    }

    [Fact]
    public async Task Deploy_ThenReadServicesAndReplicas_ShowsTheStack()
    {
        using var client = _server.Client();

        var result = await client.DeployAsync(new DeployRequest(Shop, "shop.yaml"), None);
        var services = await client.ListServicesAsync(None);
        var web = await client.GetServiceAsync("web", None);
        var replicas = await client.ListReplicasAsync("web", null, None);
        var again = await client.DeployAsync(new DeployRequest(Shop, "shop.yaml"), None);

        Assert.True(result.Changed);
        Assert.Equal("shop", result.Stack);
        Assert.Equal([ServiceChangeKind.Create, ServiceChangeKind.Create], result.Changes.Select(c => c.Kind));
        Assert.Equal(["web", "worker"], services.Select(s => s.Spec.Name));
        Assert.Equal(3, web.Desired);
        Assert.Equal(web.Replicas.Count, replicas.Count);
        Assert.False(again.Changed);
    }

    [Fact]
    public async Task Diff_ChangesNothing()
    {
        using var client = _server.Client();
        await client.DeployAsync(new DeployRequest(Shop, "shop.yaml"), None);

        var diff = await client.DiffAsync(new DeployRequest(Shop.Replace("replicas: 3", "replicas: 5", StringComparison.Ordinal), "shop.yaml"), None);

        Assert.True(diff.Changed);
        Assert.Equal(ServiceChangeKind.Scale, diff.Changes.Single(c => c.Service == "web").Kind);
        Assert.Equal(3, (await client.GetServiceAsync("web", None)).Desired);
    }

    [Fact]
    public async Task ScaleRestartRemove_ChangeTheService()
    {
        using var client = _server.Client();
        await client.DeployAsync(new DeployRequest(Shop, "shop.yaml"), None);
        var before = await client.GetServiceAsync("web", None);

        var scaled = await client.ScaleAsync("web", 5, None);
        var restarted = await client.RestartAsync("web", None);
        await client.RemoveServiceAsync("web", None);

        Assert.Equal(5, scaled.Desired);
        Assert.NotEqual(before.Version, restarted.Version);
        var missing = await Assert.ThrowsAsync<CorralApiException>(() => client.GetServiceAsync("web", None));
        Assert.Equal(HttpStatusCode.NotFound, missing.Status);
        Assert.Equal(["worker"], (await client.ListServicesAsync(None)).Select(s => s.Spec.Name));
    }

    [Fact]
    public async Task Nodes_NoAgents_EmptyListAndNotFound()
    {
        using var client = _server.Client();

        var nodes = await client.ListNodesAsync(None);
        var error = await Assert.ThrowsAsync<CorralApiException>(() => client.GetNodeAsync("nope", None));

        Assert.Empty(nodes);
        Assert.Equal(HttpStatusCode.NotFound, error.Status);
        Assert.Equal("not found", error.Title);
        Assert.Contains("no node 'nope'", error.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApiKeys_CreateListRevoke_RevokedKeyIsRefused()
    {
        using var admin = _server.Client();

        var created = await admin.CreateApiKeyAsync("ci", "operator", None);
        using var ci = _server.Client(created.Token);
        var statusWithKey = await ci.GetStatusAsync(None);
        var listed = await admin.ListApiKeysAsync(None);
        await admin.RevokeApiKeyAsync(created.Key.Id, None);
        var refused = await Assert.ThrowsAsync<CorralApiException>(() => ci.GetStatusAsync(None));
        var missing = await Assert.ThrowsAsync<CorralApiException>(() => admin.RevokeApiKeyAsync("0123456789ab", None));
        var malformed = await Assert.ThrowsAsync<CorralApiException>(() => admin.RevokeApiKeyAsync("no-such-key", None));

        Assert.Equal("operator", created.Key.Role);
        Assert.StartsWith("crl_", created.Token, StringComparison.Ordinal);
        Assert.NotNull(statusWithKey);
        Assert.Contains(listed, k => k.Id == created.Key.Id && k.Name == "ci" && k.RevokedAt is null);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.Status);
        Assert.Equal(HttpStatusCode.NotFound, missing.Status);
        Assert.Equal(HttpStatusCode.BadRequest, malformed.Status); // no key can have that id (12 hex digits)
    }

    [Fact]
    public async Task Mutation_WithViewerKey_Is403WithTheReason()
    {
        using var viewer = _server.Client(await _server.CreateKeyAsync("ro", "viewer"));

        var error = await Assert.ThrowsAsync<CorralApiException>(() => viewer.DeployAsync(new DeployRequest(Shop, "shop.yaml"), None));

        Assert.Equal(HttpStatusCode.Forbidden, error.Status);
        Assert.Contains("key 'ro' is viewer", error.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deploy_BadStack_CarriesEveryLocatedFieldError()
    {
        using var client = _server.Client();

        var error = await Assert.ThrowsAsync<CorralApiException>(() =>
            client.DeployAsync(new DeployRequest("stack: shop\nservices:\n  web:\n    comand: x\n    replicas: many\n", "shop.yaml"), None));

        Assert.Equal(HttpStatusCode.BadRequest, error.Status);
        var typo = Assert.Single(error.Errors, e => e.Field == "services.web.comand");
        Assert.Equal(("shop.yaml", 4), (typo.File, typo.Line));
        Assert.NotNull(typo.Column);
        Assert.Contains(error.Errors, e => e.Field == "services.web.replicas");
        Assert.StartsWith("shop.yaml:4:", CorralApiException.Format(typo), StringComparison.Ordinal);
        Assert.Contains("did you mean 'command'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Events_AfterIndex_ReturnsNewerOnes()
    {
        using var client = _server.Client();
        var first = await client.GetEventsAsync(0, null, null, None);

        await client.DeployAsync(new DeployRequest(Shop, "shop.yaml"), None);
        var newer = await client.GetEventsAsync(first.Index, null, null, None);

        Assert.Contains(first.Events, e => e.Kind == "cluster.initialized");
        Assert.NotEmpty(newer.Events);
        Assert.All(newer.Events, e => Assert.True(e.Revision > first.Index));
        Assert.Contains(newer.Events, e => e.Kind == "stack.deployed" && e.Actor == "key:admin");
    }

    [Fact]
    public async Task Events_BlockingQuery_ReturnsWhenAnEventArrives()
    {
        using var client = _server.Client();
        // The server records its own events just after it starts (leadership): wait until the log is quiet first.
        var head = await client.GetEventsAsync(0, null, null, None);
        for (var i = 0; i < 50; i++)
        {
            await Task.Delay(300);
            var again = await client.GetEventsAsync(0, null, null, None);
            if (again.Index == head.Index)
            {
                break;
            }
            head = again;
        }

        var waiting = client.GetEventsAsync(head.Index, TimeSpan.FromMinutes(1), null, None);
        await Task.Delay(200);
        Assert.False(waiting.IsCompleted);
        await client.DeployAsync(new DeployRequest(Shop, "shop.yaml"), None);
        var page = await waiting.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.NotEmpty(page.Events);
    }

    [Fact]
    public async Task FollowEvents_YieldsOldThenNewEvents()
    {
        using var client = _server.Client();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var seen = new List<ClusterEvent>();

        var follow = Task.Run(async () =>
        {
            await foreach (var item in client.FollowEventsAsync(0, TimeSpan.FromSeconds(10), stop.Token))
            {
                seen.Add(item);
                if (item.Kind == "service.scaled")
                {
                    return;
                }
            }
        });
        await client.DeployAsync(new DeployRequest(Shop, "shop.yaml"), None);
        await client.ScaleAsync("web", 2, None);
        await follow.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Contains(seen, e => e.Kind == "cluster.initialized");
        Assert.Contains(seen, e => e.Kind == "stack.deployed");
        Assert.Equal(seen.Select(e => e.Revision).Order(), seen.Select(e => e.Revision));
    }

    [Fact]
    public async Task Failover_DeadFirstAddress_UsesTheLiveSecond()
    {
        var dead = $"https://127.0.0.1:{FreePorts.Next()}";
        using var client = _server.Client(addresses: [dead, _server.Address]);

        var status = await client.GetStatusAsync(None);

        Assert.True(status.StoreHealthy);
        Assert.Equal(new Uri(_server.Address + "/"), client.PreferredAddress);
    }

    [Fact]
    public async Task Failover_SilentFirstAddress_GivesUpOnItAndUsesTheSecond()
    {
        // Accepts TCP connections (the kernel's backlog) but never speaks TLS.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var address = $"https://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}";
        var options = new CorralClientOptions { ConnectTimeout = TimeSpan.FromSeconds(1), Timeout = TimeSpan.FromSeconds(3) };
        using var failover = new CorralClient(_server.Config with { Addresses = [address, _server.Address] }, options);
        using var alone = new CorralClient(_server.Config with { Addresses = [address] }, options);

        var status = await failover.GetStatusAsync(None);
        var error = await Assert.ThrowsAsync<CorralConnectionException>(() => alone.GetStatusAsync(None));

        Assert.True(status.StoreHealthy);
        Assert.Matches($@"{System.Text.RegularExpressions.Regex.Escape(address)}: no (connection within 1s|answer within 3s)", error.Message);
    }

    [Fact]
    public async Task AllAddressesDead_ConnectionExceptionNamesEach()
    {
        var a = $"https://127.0.0.1:{FreePorts.Next()}";
        var b = $"https://127.0.0.1:{FreePorts.Next()}";
        using var client = _server.Client(addresses: [a, b]);

        var error = await Assert.ThrowsAsync<CorralConnectionException>(() => client.GetStatusAsync(None));

        Assert.False(error.IsTrustFailure);
        Assert.Equal(2, error.Failures.Count);
        Assert.Contains(a, error.Message, StringComparison.Ordinal);
        Assert.Contains("connection refused", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServerFromAnotherCa_IsRefused()
    {
        await using var other = await TestServer.StartAsync();
        using var client = _server.Client(addresses: [other.Address]);

        var error = await Assert.ThrowsAsync<CorralConnectionException>(() => client.GetStatusAsync(None));

        Assert.True(error.IsTrustFailure);
        Assert.Contains("not from the cluster CA", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongToken_Is401()
    {
        using var client = _server.Client("crl_0123456789ab_" + new string('a', 43));

        var error = await Assert.ThrowsAsync<CorralApiException>(() => client.ListServicesAsync(None));

        Assert.Equal(HttpStatusCode.Unauthorized, error.Status);
        Assert.Contains("unknown or revoked", error.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Client_SpeaksHttp2()
    {
        // The server offers h2 over TLS (ALPN); the client asks for it and accepts 1.1 only as a fall-back.
        using var client = _server.Client();

        var status = await client.GetStatusAsync(None);

        Assert.NotNull(status);
        Assert.Equal(HttpVersion.Version20, client.LastResponseVersion);
    }
}
