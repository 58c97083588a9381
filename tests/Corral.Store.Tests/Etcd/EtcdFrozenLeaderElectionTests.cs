using System.Text;
using Corral.Store.Etcd;
using Corral.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Corral.Store.Tests.Etcd;

/// <summary>
/// Leadership through a follower member while etcd's leader hangs (SIGSTOP), on a real 3-member cluster with the
/// timing of Corral's managed members (50 ms heartbeat, 500 ms election timeout, pre-vote).
/// </summary>
public sealed class EtcdFrozenLeaderElectionTests
{
    [Fact]
    public async Task EtcdLeaderFrozen_RenewalForwardedToItHangs_TheNextReachesTheNewEtcdLeader_LeadershipKept()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var ct = cts.Token;
        await using var cluster = await EtcdCluster.StartAsync(3, ct, new EtcdClusterOptions
        {
            HeartbeatInterval = TimeSpan.FromMilliseconds(50),
            ElectionTimeout = TimeSpan.FromMilliseconds(500),
            ExtraArguments = ["--pre-vote"],
        });
        var leader = await cluster.WaitForLeaderAsync(ct);
        var follower = (leader + 1) % 3;
        // Only the follower: each renewal goes to it, and it forwards it to whichever member it takes for the leader.
        await using var store = new EtcdStore(new EtcdStoreOptions { Endpoints = [cluster.ClientUrls[follower]] }, TimeProvider.System, NullLogger<EtcdStore>.Instance);
        var options = new ElectionOptions { Ttl = TimeSpan.FromSeconds(5), RenewInterval = TimeSpan.FromMilliseconds(300), StepDownMargin = TimeSpan.FromSeconds(1) };
        await using var leadership = await store.CampaignAsync("frozen", Encoding.UTF8.GetBytes("a"), options, ct);

        var frozenAt = DateTime.UtcNow;
        cluster.Freeze(leader);
        try
        {
            var next = await cluster.WaitForLeaderAsync(ct, not: leader);
            // Past the step-down deadline that the last renewal acknowledged before the freeze allowed (Ttl - margin =
            // 4 s after it was sent), and then some: a renewal forwarded to the frozen member hangs there for etcd's
            // whole request timeout (6 s here), so only a later renewal, answered by the new etcd leader, keeps this.
            await Task.Delay(frozenAt + TimeSpan.FromSeconds(7) - DateTime.UtcNow is { Ticks: > 0 } left ? left : TimeSpan.Zero, ct);

            Assert.False(leadership.Token.IsCancellationRequested, $"leadership was lost after etcd's leader (member {leader}) froze and member {next} took over: {leadership}");
            var current = await store.GetLeaderAsync("frozen", ct);
            Assert.Equal(leadership.Leader.LeaseId, current?.LeaseId);
        }
        finally
        {
            cluster.Thaw(leader);
        }
    }
}
