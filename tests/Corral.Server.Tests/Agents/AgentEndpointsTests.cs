using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Corral.Core;
using Corral.Core.Api;
using Corral.Core.Cluster;
using Corral.Core.Tasks;
using Corral.Server.State;
using Corral.Server.Tests.Controllers;

namespace Corral.Server.Tests.Agents;

public class AgentEndpointsTests
{
    private static ReplicaReport Report(string id, ReplicaState state, string reason = "", int? exitCode = null) =>
        new(id, state, DateTimeOffset.UtcNow, reason, 1234, exitCode, null, 1.5, 1 << 20);

    [Fact]
    public async Task AgentEndpoints_WithoutNodeCertificate_Are401AndStoreUnchanged()
    {
        await using var host = await AgentHost.StartAsync();
        var before = await host.Store.GetRevisionAsync();
        var anonymous = host.ClientFor(null);

        using var register = await anonymous.PostAsync("/v1/agent/register", System.Net.Http.Json.JsonContent.Create(AgentHost.Registration("a"), CoreJson.Default.AgentRegistration));
        using var assignments = await anonymous.GetAsync("/v1/agent/assignments?node=a&index=0&wait=1s");

        Assert.Equal(HttpStatusCode.Unauthorized, register.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, assignments.StatusCode);
        Assert.Contains("client certificate", await register.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Null(await host.Store.GetAsync(Keys.Node("a")));
        Assert.True(await host.Store.GetRevisionAsync() - before < 5, "only the leader's own writes may have happened");
    }

    /// <summary>Issue 12 defect 6: a bad body without a certificate answered 400, so bodies were judged before callers.</summary>
    [Theory]
    [InlineData("/v1/agent/heartbeat", "{}")]
    [InlineData("/v1/agent/register", "{\"node\": \"..\"}")]
    [InlineData("/v1/agent/logs", "not json")]
    public async Task AgentEndpoints_BadBodyWithoutCertificate_Is401(string path, string body)
    {
        await using var host = await AgentHost.StartAsync();
        var anonymous = host.ClientFor(null);

        using var response = await anonymous.PostAsync(path, new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("client certificate", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AgentEndpoints_PostingForAnotherNode_Is403()
    {
        await using var host = await AgentHost.StartAsync();
        using (var registered = await host.RegisterAsync(AgentHost.Registration("b")))
        {
            Assert.Equal(HttpStatusCode.OK, registered.StatusCode);
        }
        var nodeA = host.ClientFor("a");

        using var register = await nodeA.PostAsync("/v1/agent/register", System.Net.Http.Json.JsonContent.Create(AgentHost.Registration("b"), CoreJson.Default.AgentRegistration));
        using var heartbeat = await nodeA.PostAsync("/v1/agent/heartbeat", System.Net.Http.Json.JsonContent.Create(new AgentHeartbeat("b", [], null, null, null), CoreJson.Default.AgentHeartbeat));
        using var assignments = await nodeA.GetAsync("/v1/agent/assignments?node=b&index=0&wait=1s");

        Assert.Equal(HttpStatusCode.Forbidden, register.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, heartbeat.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, assignments.StatusCode);
        Assert.Contains("is node 'a'; it may not act for node 'b'", await heartbeat.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Register_NewThenSame_CreatesOnceAndKeepsOperatorFields()
    {
        await using var host = await AgentHost.StartAsync();
        await host.WaitForLeaderAsync();

        using (var first = await host.RegisterAsync(AgentHost.Registration("a", new Dictionary<string, string> { ["zone"] = "x" })))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }
        var node = await host.GetNodeAsync("a");
        Assert.Equal(NodeStatus.Ready, node.Status);
        Assert.Equal(4, node.CpuCores);
        Assert.Equal("x", node.Labels["zone"]);

        var revision = await host.Store.GetRevisionAsync();
        using (var same = await host.RegisterAsync(AgentHost.Registration("a", new Dictionary<string, string> { ["zone"] = "x" })))
        {
            Assert.Equal(HttpStatusCode.OK, same.StatusCode);
        }
        Assert.Equal(revision, await host.Store.GetRevisionAsync());

        // An operator drains the node; the agent registering again (new labels) must not undo it.
        await host.Store.PutAsync(Keys.Node("a"), JsonSerializer.SerializeToUtf8Bytes(node with { Eligible = false, Draining = true }, CoreJson.Default.Node));
        using (var changed = await host.RegisterAsync(AgentHost.Registration("a", new Dictionary<string, string> { ["zone"] = "y" })))
        {
            Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        }
        node = await host.GetNodeAsync("a");
        Assert.Equal("y", node.Labels["zone"]);
        Assert.False(node.Eligible);
        var kinds = await host.EventKindsAsync();
        // The leader may already have finished the drain (no replicas on the node): that, not the registration, clears it.
        Assert.True(node.Draining || kinds.Contains("node.drained"), "registering again undid the drain");
        Assert.Equal(1, kinds.Count(k => k == "node.registered"));
        Assert.Equal(1, kinds.Count(k => k == "node.updated"));
    }

    [Fact]
    public async Task AgentEndpoints_BadInput_Rejected400Or404AndStoreUnchanged()
    {
        await using var host = await AgentHost.StartAsync();
        await host.WaitForLeaderAsync();
        var revision = await host.Store.GetRevisionAsync();

        using var badName = await host.RegisterAsync(AgentHost.Registration("a/b"));
        using var badValues = await host.RegisterAsync(new AgentRegistration("a", [""], -1, -5, new Dictionary<string, string>()));
        using var malformed = await host.Client.PostAsync("/v1/agent/register", new StringContent("{\"node\": ", Encoding.UTF8, "application/json"));
        using var unknown = await host.HeartbeatAsync(new AgentHeartbeat("ghost", [], null, null, null));
        using var badIndex = await host.Client.GetAsync("/v1/agent/assignments?node=a&index=-3&wait=forever");

        Assert.Equal(HttpStatusCode.BadRequest, badName.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badValues.StatusCode);
        var body = await badValues.Content.ReadAsStringAsync();
        Assert.Contains("addresses", body, StringComparison.Ordinal);
        Assert.Contains("cpu_cores", body, StringComparison.Ordinal);
        Assert.Contains("memory_bytes", body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badIndex.StatusCode);
        var query = await badIndex.Content.ReadAsStringAsync();
        Assert.Contains("index", query, StringComparison.Ordinal);
        Assert.Contains("wait", query, StringComparison.Ordinal);
        Assert.Equal(revision, await host.Store.GetRevisionAsync());
        Assert.Null(await host.State.GetNodeAsync("a", CancellationToken.None));
    }

    [Fact]
    public async Task Assignments_NewsReturnsAtOnce_OtherwiseBlocksUntilAChange()
    {
        await using var host = await AgentHost.StartAsync();
        (await host.RegisterAsync(AgentHost.Registration("a"))).Dispose();
        await host.PutServiceAsync(StoreHarness.Service("web", 1));

        var set = await host.AssignmentsUntilAsync("a", s => s.Assignments.Count == 1);
        Assert.Equal("web", set.Assignments[0].Service);
        Assert.Equal("sleep", set.Assignments[0].Task.Command);
        Assert.True(set.Assignments[0].Singleton);

        // Nothing newer than the index: the query blocks...
        var blocked = host.AssignmentsAsync("a", set.Index, "30s");
        Assert.NotSame(blocked, await Task.WhenAny(blocked, Task.Delay(TimeSpan.FromMilliseconds(500))));

        // ...until the node's assignments change.
        await host.PutServiceAsync(StoreHarness.Service("web", 2));
        var changed = await blocked.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(changed.Index > set.Index);
        if (changed.Assignments.Count < 2)
        {
            changed = await host.AssignmentsUntilAsync("a", s => s.Assignments.Count == 2);
        }
        Assert.Equal(2, changed.Assignments.Count);
        Assert.All(changed.Assignments, a => Assert.False(a.Singleton));

        // A short wait with no news answers the same set when it runs out.
        var quiet = await host.AssignmentsAsync("a", changed.Index, "1s");
        Assert.Equal(changed.Assignments.Select(a => a.ReplicaId), quiet.Assignments.Select(a => a.ReplicaId));
        // Its index is what the tracker applied by then: other writes (a liveness key) may have moved it on.
        Assert.True(quiet.Index >= changed.Index);

        // An old index answers at once.
        var old = await host.AssignmentsAsync("a", 0, "5m").WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(2, old.Assignments.Count);
    }

    /// <summary>
    /// Issue 22 item 3: a heartbeat answered while the node is down in the store does not count as contact for the
    /// agent's singleton fence (the leader may still evict), and says so; once the leader has marked the node up, the
    /// answer and the assignments say ready. The answer comes only once the node's liveness key is in the store.
    /// </summary>
    [Fact]
    public async Task Heartbeat_WhileTheNodeIsDownInTheStore_AnsweredNotReady_ThenReadyOnceMarkedUp()
    {
        await using var host = await AgentHost.StartAsync(heartbeatGrace: TimeSpan.FromSeconds(2));
        await host.WaitForLeaderAsync();
        (await host.RegisterAsync(AgentHost.Registration("a"))).Dispose();
        using (var first = await host.HeartbeatAsync(new AgentHeartbeat("a", [], null, null, null)))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            Assert.True((await first.Content.ReadFromJsonAsync(CoreJson.Default.HeartbeatAck))!.NodeReady);
        }
        Assert.NotNull(await host.Store.GetAsync(Keys.NodeLiveness("a", "test-server")));

        // Silent past the grace: the key goes (after half the grace), then the node is marked down.
        await AgentHost.WaitUntilAsync(async () => (await host.GetNodeAsync("a")).Status == NodeStatus.Down, "node a to be marked down");
        Assert.Null(await host.Store.GetAsync(Keys.NodeLiveness("a", "test-server")));

        using (var back = await host.HeartbeatAsync(new AgentHeartbeat("a", [], null, null, null)))
        {
            Assert.Equal(HttpStatusCode.OK, back.StatusCode);
            Assert.False((await back.Content.ReadFromJsonAsync(CoreJson.Default.HeartbeatAck))!.NodeReady);
        }
        Assert.NotNull(await host.Store.GetAsync(Keys.NodeLiveness("a", "test-server")));

        await AgentHost.WaitUntilAsync(async () => (await host.GetNodeAsync("a")).Status == NodeStatus.Ready, "node a to be marked up");
        await AgentHost.WaitUntilAsync(async () =>
        {
            using var again = await host.HeartbeatAsync(new AgentHeartbeat("a", [], null, null, null));
            return (await again.Content.ReadFromJsonAsync(CoreJson.Default.HeartbeatAck))!.NodeReady;
        }, "a heartbeat answered ready");
        Assert.True((await host.AssignmentsAsync("a", 0, "0s")).NodeReady);
    }

    [Fact]
    public async Task Heartbeat_DiskUsageAndCertificateExpiry_RecordedAndBadValuesRefused()
    {
        await using var host = await AgentHost.StartAsync();
        (await host.RegisterAsync(AgentHost.Registration("a"))).Dispose();

        using var bad = await host.HeartbeatAsync(new AgentHeartbeat("a", [], null, null, null, 200, 100));
        using var good = await host.HeartbeatAsync(new AgentHeartbeat("a", [], null, null, null, 60, 100));

        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("disk_used_bytes", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, good.StatusCode);
        var ack = await good.Content.ReadFromJsonAsync(CoreJson.Default.HeartbeatAck);
        Assert.True(ack!.NodeReady);
        var recorded = host.Heartbeats.Get("a")!;
        Assert.Equal((60L, 100L), (recorded.DiskUsedBytes, recorded.DiskTotalBytes));
        // The client certificate the heartbeat came with: its expiry feeds the certificate alarm.
        Assert.NotNull(recorded.CertificateNotAfter);
        Assert.True(recorded.CertificateNotAfter > DateTimeOffset.UtcNow);
    }

    [Fact]
    public async Task Heartbeat_ReportedStateWrittenOnce_SteadyStateCausesNoStoreWrites()
    {
        await using var host = await AgentHost.StartAsync();
        (await host.RegisterAsync(AgentHost.Registration("a"))).Dispose();
        await host.PutServiceAsync(StoreHarness.Service("web", 1));
        var id = (await host.AssignmentsUntilAsync("a", s => s.Assignments.Count == 1)).Assignments[0].ReplicaId;

        using (var response = await host.HeartbeatAsync(new AgentHeartbeat("a", [Report(id, ReplicaState.Healthy)], 12.5, 1 << 30, 0.3)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        Assert.Equal(ReplicaState.Healthy, (await host.GetReplicaAsync(id))!.State);
        Assert.Contains("replica.healthy", await host.EventKindsAsync());

        var revision = await host.Store.GetRevisionAsync();
        for (var i = 0; i < 20; i++)
        {
            IReadOnlyList<ReplicaReport> reports = i % 2 == 0 ? [Report(id, ReplicaState.Healthy)] : [];
            using var response = await host.HeartbeatAsync(new AgentHeartbeat("a", reports, 10 + i, 1 << 30, 0.2));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        Assert.Equal(revision, await host.Store.GetRevisionAsync());
    }

    [Fact]
    public async Task Heartbeat_FailedReplica_MarkedFailedAndReplaced()
    {
        await using var host = await AgentHost.StartAsync();
        (await host.RegisterAsync(AgentHost.Registration("a"))).Dispose();
        await host.PutServiceAsync(StoreHarness.Service("web", 1));
        var id = (await host.AssignmentsUntilAsync("a", s => s.Assignments.Count == 1)).Assignments[0].ReplicaId;

        (await host.HeartbeatAsync(new AgentHeartbeat("a", [Report(id, ReplicaState.Failed, "crashed 5 times in 5m", 1)], null, null, null))).Dispose();

        var failed = await host.GetReplicaAsync(id);
        Assert.Equal(ReplicaPhase.Failed, failed!.Phase);
        Assert.Equal("crashed 5 times in 5m", failed.Reason);
        var replaced = await host.AssignmentsUntilAsync("a", s => s.Assignments.Count == 1 && s.Assignments[0].ReplicaId != id);
        Assert.StartsWith("web-", replaced.Assignments[0].ReplicaId, StringComparison.Ordinal);
        Assert.Contains("replica.failed", await host.EventKindsAsync());
    }

    [Fact]
    public async Task Heartbeat_StoppingReplicaReportedExited_IsDeleted()
    {
        await using var host = await AgentHost.StartAsync();
        (await host.RegisterAsync(AgentHost.Registration("a"))).Dispose();
        await host.PutServiceAsync(StoreHarness.Service("web", 1));
        var id = (await host.AssignmentsUntilAsync("a", s => s.Assignments.Count == 1)).Assignments[0].ReplicaId;

        await host.PutServiceAsync(StoreHarness.Service("web", 0));
        await host.AssignmentsUntilAsync("a", s => s.Assignments.Count == 0);
        Assert.Equal(ReplicaPhase.Stopping, (await host.GetReplicaAsync(id))!.Phase);

        // Another node cannot confirm the stop of a replica it does not hold.
        (await host.RegisterAsync(AgentHost.Registration("b"))).Dispose();
        (await host.HeartbeatAsync(new AgentHeartbeat("b", [Report(id, ReplicaState.Exited, exitCode: 0)], null, null, null))).Dispose();
        Assert.NotNull(await host.GetReplicaAsync(id));

        (await host.HeartbeatAsync(new AgentHeartbeat("a", [Report(id, ReplicaState.Exited, exitCode: 0)], null, null, null))).Dispose();
        Assert.Null(await host.GetReplicaAsync(id));
        Assert.Contains("replica.stopped", await host.EventKindsAsync());
    }

    [Fact]
    public async Task Heartbeat_StoppingReplicaNoLongerReported_IsDeleted_AssignedOnesUntouched()
    {
        await using var host = await AgentHost.StartAsync();
        (await host.RegisterAsync(AgentHost.Registration("a"))).Dispose();
        await host.PutServiceAsync(StoreHarness.Service("web", 2));
        var ids = (await host.AssignmentsUntilAsync("a", s => s.Assignments.Count == 2)).Assignments.Select(a => a.ReplicaId).ToList();

        // An agent that just started reports nothing yet: its assigned replicas are not affected.
        (await host.HeartbeatAsync(new AgentHeartbeat("a", [], null, null, null))).Dispose();
        foreach (var id in ids)
        {
            Assert.Equal(ReplicaPhase.Assigned, (await host.GetReplicaAsync(id))!.Phase);
        }
        (await host.HeartbeatAsync(new AgentHeartbeat("a", [.. ids.Select(id => Report(id, ReplicaState.Healthy))], null, null, null))).Dispose();

        await host.PutServiceAsync(StoreHarness.Service("web", 1));
        var kept = (await host.AssignmentsUntilAsync("a", s => s.Assignments.Count == 1)).Assignments[0].ReplicaId;
        var stopping = ids.Single(id => id != kept);
        Assert.Equal(ReplicaPhase.Stopping, (await host.GetReplicaAsync(stopping))!.Phase);

        // The agent stopped and forgot it: the next heartbeat lists only the replica it still runs.
        (await host.HeartbeatAsync(new AgentHeartbeat("a", [Report(kept, ReplicaState.Healthy)], null, null, null))).Dispose();

        Assert.Null(await host.GetReplicaAsync(stopping));
        Assert.Equal(ReplicaPhase.Assigned, (await host.GetReplicaAsync(kept))!.Phase);
        Assert.Contains("replica.stopped", await host.EventKindsAsync());
    }
}
