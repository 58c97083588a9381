using System.Text;
using System.Text.Json;
using Corral.Core;
using Corral.Core.Cluster;
using Corral.Server.Controllers;
using Corral.Server.Leadership;
using Corral.Server.State;
using Corral.Server.Tests.Controllers;
using Corral.Store;
using Corral.Store.Etcd;
using Corral.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Corral.Server.Tests.Leadership;

/// <summary>
/// Two servers (two store clients) on a real 3-member etcd: a leader deposed without noticing (its lease revoked, as
/// when it expires during a partition) cannot commit the plans it made, while the new leader can.
/// </summary>
public sealed class DeposedLeaderTests
{
    [Fact]
    public async Task DeposedLeader_CommitsPlanAndNodeTransitionsAfterAnotherWon_BothRefusedNothingWritten()
    {
        await using var etcd = await EtcdCluster.StartAsync(3, new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        await using var storeA = new EtcdStore(new EtcdStoreOptions { Endpoints = etcd.ClientUrls }, TimeProvider.System, NullLogger<EtcdStore>.Instance);
        await using var storeB = new EtcdStore(new EtcdStoreOptions { Endpoints = [.. etcd.ClientUrls.Reverse()] }, TimeProvider.System, NullLogger<EtcdStore>.Instance);
        var time = new ManualTimeProvider(DateTimeOffset.UtcNow);
        var stateA = new ClusterState(storeA, time);
        var stateB = new ClusterState(storeB, time);
        foreach (var name in new[] { "a", "b", "c" })
        {
            await storeA.PutAsync(Keys.Node(name), JsonSerializer.SerializeToUtf8Bytes(new Node { Name = name, CpuCores = 8, MemoryBytes = 16L << 30, StatusSince = time.GetUtcNow() }, CoreJson.Default.Node));
        }
        var web = StoreHarness.Service("web", 3);
        await storeA.PutAsync(Keys.Service(web.Name), JsonSerializer.SerializeToUtf8Bytes(web, CoreJson.Default.ServiceSpec));

        var old = new LeadershipTerm(await storeA.CampaignAsync(Keys.LeaderElection, Encoding.UTF8.GetBytes("s1"), new ElectionOptions { Ttl = TimeSpan.FromSeconds(30) }), "s1");
        var reconcilerA = new ReconcileController(stateA, null, new ControlPlaneOptions { ServerName = "s1" }, time, NullLogger<ReconcileController>.Instance);
        var monitorA = new NodeMonitor(stateA, new HeartbeatTable(), new ControlPlaneOptions { ServerName = "s1" }, time, NullLogger<NodeMonitor>.Instance);
        await monitorA.EstablishAsync(old, CancellationToken.None);
        var pass = await reconcilerA.PlanAsync(old, CancellationToken.None);
        Assert.Equal(3, pass.Placed);

        // s1 is deposed behind its back: its lease is gone and s2 wins the election.
        await storeB.RevokeLeaseAsync(old.LeaseId);
        await using var nextLeadership = await storeB.CampaignAsync(Keys.LeaderElection, Encoding.UTF8.GetBytes("s2"), new ElectionOptions { Ttl = TimeSpan.FromSeconds(30) });
        var next = new LeadershipTerm(nextLeadership, "s2");
        Assert.True(next.Term > old.Term);
        var revision = await storeB.GetRevisionAsync();

        var outcome = await reconcilerA.CommitAsync(old, pass, CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(30));
        var downs = await monitorA.CheckOnceAsync(old, CancellationToken.None);

        Assert.True(outcome.LeadershipLost);
        Assert.Equal(0, downs);
        Assert.Equal(revision, await storeB.GetRevisionAsync());
        Assert.Empty((await storeB.RangeAsync(Keys.Replicas)).Kvs);
        Assert.All((await storeB.RangeAsync(Keys.Nodes)).Kvs, kv => Assert.Equal(NodeStatus.Ready, JsonSerializer.Deserialize(kv.Value.Span, CoreJson.Default.Node)!.Status));

        // The new leader's plan from the same state commits.
        var reconcilerB = new ReconcileController(stateB, null, new ControlPlaneOptions { ServerName = "s2" }, time, NullLogger<ReconcileController>.Instance);
        var placed = await reconcilerB.ReconcileOnceAsync(next, CancellationToken.None);
        Assert.False(placed.LeadershipLost);
        Assert.Equal(3, (await storeB.RangeAsync(Keys.Replicas)).Kvs.Count);
        await old.Leadership.DisposeAsync();
    }
}
