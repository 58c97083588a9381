using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Corral.Core;
using Corral.Core.Api;
using Corral.Server.Logs;
using Corral.Server.State;
using Corral.Server.Tests.Controllers;

namespace Corral.Server.Tests.Agents;

public class AgentLogsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 22, 10, 0, 0, TimeSpan.Zero);

    internal static AgentLogChunk Chunk(string replica, long from, params string[] texts)
    {
        var lines = new List<AgentLogLine>();
        var offset = from;
        foreach (var text in texts)
        {
            lines.Add(new AgentLogLine(offset, T0.AddMilliseconds(offset), "stdout", text));
            offset += text.Length + 35;
        }
        return new AgentLogChunk(replica, "web", from, offset, lines);
    }

    private static Task<HttpResponseMessage> PostAsync(HttpClient client, AgentLogBatch batch) =>
        client.PostAsync("/v1/agent/logs", JsonContent.Create(batch, CoreJson.Default.AgentLogBatch));

    private static async Task<List<string>> TextsAsync(AgentHost host, LogQuery? query = null)
    {
        var (records, _) = await new LogStore(host.Store).ReadAsync(query ?? new LogQuery("web"), new LogCursor(), CancellationToken.None);
        return [.. records.Select(r => r.Text)];
    }

    [Fact]
    public async Task PostLogs_SameBatchTwice_StoredOnceAndReadOnce()
    {
        await using var host = await AgentHost.StartAsync();
        var batch = new AgentLogBatch("a", [Chunk("web-1", 0, "one", "two"), Chunk("web-2", 100, "uno")]);

        using (var first = await PostAsync(host.Client, batch))
        {
            Assert.Equal(HttpStatusCode.NoContent, first.StatusCode);
        }
        var keys = (await host.Store.RangeAsync(Keys.Logs)).Kvs.Select(k => (k.Key, k.ValueString)).ToList();
        using (var again = await PostAsync(host.Client, batch))
        {
            Assert.Equal(HttpStatusCode.NoContent, again.StatusCode);
        }

        Assert.Equal(keys, (await host.Store.RangeAsync(Keys.Logs)).Kvs.Select(k => (k.Key, k.ValueString)).ToList());
        Assert.Equal(2, keys.Count);
        Assert.Equal(Keys.LogChunk("web", "web-1", 0), keys[0].Key);
        Assert.Equal(["one", "two", "uno"], (await TextsAsync(host)).Order(StringComparer.Ordinal));
        var stored = LogStore.Decode((await host.Store.GetAsync(keys[0].Key))!)!;
        Assert.Equal("a", stored.Node);
    }

    [Fact]
    public async Task PostLogs_ResendFromOlderOffsetOverlaps_EachLineReadOnce()
    {
        await using var host = await AgentHost.StartAsync();
        var first = Chunk("web-1", 0, "l1", "l2");
        var second = Chunk("web-1", first.Next, "l3", "l4");
        (await PostAsync(host.Client, new AgentLogBatch("a", [first]))).Dispose();
        (await PostAsync(host.Client, new AgentLogBatch("a", [second]))).Dispose();

        // An agent that lost its acknowledged offset ships from the start again, in one larger chunk.
        var all = Chunk("web-1", 0, "l1", "l2", "l3", "l4", "l5");
        using var resend = await PostAsync(host.Client, new AgentLogBatch("a", [all]));

        Assert.Equal(HttpStatusCode.NoContent, resend.StatusCode);
        Assert.Equal(["l1", "l2", "l3", "l4", "l5"], await TextsAsync(host));
        Assert.Equal(["l4", "l5"], await TextsAsync(host, new LogQuery("web", Tail: 2)));
        Assert.Equal(["l3", "l4", "l5"], await TextsAsync(host, new LogQuery("web", Since: T0.AddMilliseconds(second.From))));
    }

    [Fact]
    public async Task PostLogs_ForAnotherNodeOrItsReplica_Is403AndStoreUnchanged()
    {
        await using var host = await AgentHost.StartAsync();
        (await host.RegisterAsync(AgentHost.Registration("b"))).Dispose();
        await host.PutServiceAsync(StoreHarness.Service("web", 1));
        var replicaOfB = (await host.AssignmentsUntilAsync("b", s => s.Assignments.Count == 1)).Assignments[0].ReplicaId;
        using var asOther = await PostAsync(host.ClientFor("a"), new AgentLogBatch("b", [Chunk("web-1", 0, "x")]));
        using var othersReplica = await PostAsync(host.ClientFor("a"), new AgentLogBatch("a", [Chunk("web-1", 0, "x"), Chunk(replicaOfB, 0, "y")]));
        using var anonymous = await PostAsync(host.ClientFor(null), new AgentLogBatch("a", [Chunk("web-1", 0, "x")]));

        Assert.Equal(HttpStatusCode.Forbidden, asOther.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, othersReplica.StatusCode);
        Assert.Contains("assigned to node b", await othersReplica.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Empty((await host.Store.RangeAsync(Keys.Logs)).Kvs);

        using var own = await PostAsync(host.ClientFor("b"), new AgentLogBatch("b", [Chunk(replicaOfB, 0, "y")]));
        Assert.Equal(HttpStatusCode.NoContent, own.StatusCode);
    }

    [Fact]
    public async Task PostLogs_BadBatch_400NamingEachFieldAndStoreUnchanged()
    {
        await using var host = await AgentHost.StartAsync();
        var good = Chunk("web-1", 10, "a", "b");
        var batch = new AgentLogBatch("a",
        [
            good with { ReplicaId = "../x" },
            good with { Service = "" },
            good with { Next = 5 },
            good with { Lines = [good.Lines[1], good.Lines[0]] },
            good,
            good,
        ]);

        using var response = await PostAsync(host.Client, batch);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("chunks[0].replica_id", body, StringComparison.Ordinal);
        Assert.Contains("chunks[1].service", body, StringComparison.Ordinal);
        Assert.Contains("chunks[2]", body, StringComparison.Ordinal);
        Assert.Contains("chunks[3].lines[1].offset", body, StringComparison.Ordinal);
        Assert.Contains("chunks[5]", body, StringComparison.Ordinal);
        Assert.Empty((await host.Store.RangeAsync(Keys.Logs)).Kvs);
    }
}
