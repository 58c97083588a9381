using Corral.Store.Etcd;
using Microsoft.Extensions.Logging.Abstractions;

namespace Corral.Store.Tests.Etcd;

/// <summary>Maintenance.MoveLeader and per-member Status against a real 3-member etcd cluster.</summary>
public sealed class EtcdMoveLeaderTests(EtcdThreeMemberFixture fixture) : IClassFixture<EtcdThreeMemberFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task MoveLeaderAsync_FromAStoreAskingAFollower_TheTargetLeadsAndEveryMemberFollowsIt()
    {
        var cluster = fixture.Cluster;
        await cluster.WaitHealthyAsync();
        var leader = await fixture.Cluster.WaitForLeaderAsync(timeout: Timeout);
        var follower = Enumerable.Range(0, 3).First(i => i != leader);
        var target = Enumerable.Range(0, 3).First(i => i != leader && i != follower);
        // The preferred endpoint is a follower: MoveLeader must still reach the leader, the only member that accepts it.
        await using var store = new EtcdStore(new EtcdStoreOptions { Endpoints = [cluster.ClientUrls[follower], cluster.ClientUrls[leader]] }, TimeProvider.System, NullLogger<EtcdStore>.Instance);
        var members = await store.ListMembersAsync();
        var targetId = members.Single(m => m.Name == cluster.Members[target].Name).Id;
        var leaderId = members.Single(m => m.Name == cluster.Members[leader].Name).Id;

        var previous = await store.MoveLeaderAsync(targetId);

        Assert.Equal(leaderId, previous);
        Assert.Equal(target, await fixture.Cluster.WaitForLeaderAsync(timeout: Timeout));
        foreach (var member in members)
        {
            var status = await store.GetMemberStatusAsync(member);
            Assert.Equal(member.Id, status.MemberId);
            Assert.Equal(targetId, status.Leader);
            Assert.True(status.IsHealthy);
            Assert.False(status.IsLearner);
            Assert.True(status.RaftIndex > 0 && status.RaftAppliedIndex > 0);
        }
        // The cluster still takes writes after the transfer.
        await store.PutAsync("/move-leader/after", "v"u8.ToArray());
        Assert.NotNull(await store.GetAsync("/move-leader/after"));
    }

    [Fact]
    public async Task MoveLeaderAsync_TargetAlreadyLeads_NothingChanges()
    {
        var cluster = fixture.Cluster;
        await cluster.WaitHealthyAsync();
        await using var store = fixture.CreateStore();
        var leader = await fixture.Cluster.WaitForLeaderAsync(timeout: Timeout);
        var leaderId = (await store.ListMembersAsync()).Single(m => m.Name == cluster.Members[leader].Name).Id;
        var term = (await store.GetMemberStatusAsync((await store.ListMembersAsync()).Single(m => m.Id == leaderId))).RaftTerm;

        Assert.Equal(leaderId, await store.MoveLeaderAsync(leaderId));

        var after = await store.GetMemberStatusAsync((await store.ListMembersAsync()).Single(m => m.Id == leaderId));
        Assert.Equal(leaderId, after.Leader);
        Assert.Equal(term, after.RaftTerm);
    }

    [Fact]
    public async Task MoveLeaderAsync_UnknownMember_RefusedNamingItAndTheMembers()
    {
        await fixture.Cluster.WaitHealthyAsync();
        await using var store = fixture.CreateStore();
        var e = await Assert.ThrowsAsync<StoreException>(() => store.MoveLeaderAsync(0xabcdef));
        Assert.Contains("abcdef is not a member of the cluster", e.Message, StringComparison.Ordinal);
        Assert.Contains(fixture.Cluster.Members[0].Name, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetMemberStatusAsync_MemberWithoutClientUrl_RefusedNamingIt()
    {
        await using var store = fixture.CreateStore();
        var e = await Assert.ThrowsAsync<StoreException>(() => store.GetMemberStatusAsync(new EtcdMemberInfo(0x42, "new", ["http://127.0.0.1:1"], [])));
        Assert.Contains("'new' (42) has no client URL", e.Message, StringComparison.Ordinal);
    }
}
