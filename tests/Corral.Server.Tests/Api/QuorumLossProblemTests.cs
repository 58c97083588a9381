using System.Net;
using System.Text.Json;
using Corral.Testing;

namespace Corral.Server.Tests.Api;

/// <summary>
/// The two 503s of a lost quorum (docs/ha.md, "Which refused writes were applied"): <c>quorum lost</c> only for a
/// request refused before it reached the store; a request that failed in the store is <c>unavailable</c>.
/// </summary>
public sealed class QuorumLossProblemTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task QuorumLost_WriteRefusedBeforeTheStoreIsQuorumLost_RequestThatFailedInTheStoreIsUnavailableWithTheReason()
    {
        await using var etcd = await EtcdCluster.StartAsync(1, new CancellationTokenSource(Patience).Token);
        await using var host = await ServerHost.StartAsync(StoreConfig.Parse("etcd://" + new Uri(etcd.ClientUrls[0]).Authority, tls: false));
        using var admin = host.Client(host.AdminToken);
        using (var before = await admin.GetAsync("/v1/events?index=0"))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        await etcd.KillAsync(0);

        // Once the server judged the quorum lost, a write is refused at once, before it reaches the store.
        var refused = await Eventually.ValueAsync(async () =>
        {
            using var response = await admin.PostAsync("/v1/tokens", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));
            return await Problem(response) is { Title: "quorum lost" } problem ? problem : null;
        }, Patience, "a write to be refused with 'quorum lost'");
        Assert.Equal(503, refused.Status);

        // A read that goes to the store and fails there (no member answers) is 'unavailable', saying why.
        using var read = await admin.GetAsync("/v1/events?index=0");
        var failed = await Problem(read);
        Assert.True(failed is { Status: 503, Title: "unavailable" }, $"{(int)read.StatusCode}: {failed}");
        Assert.StartsWith(refused.Detail, failed.Detail, StringComparison.Ordinal);
        Assert.Contains("This request failed in the store: etcd", failed.Detail, StringComparison.Ordinal);
    }

    private static async Task<ProblemBody?> Problem(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
        {
            return null;
        }
        using var json = JsonDocument.Parse(text);
        var root = json.RootElement;
        return new ProblemBody(root.GetProperty("status").GetInt32(), root.GetProperty("title").GetString() ?? "", root.GetProperty("detail").GetString() ?? "");
    }

    private sealed record ProblemBody(int Status, string Title, string Detail);
}
