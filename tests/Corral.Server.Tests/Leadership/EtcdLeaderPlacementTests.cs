using System.Text;
using Corral.Server.Leadership;
using Corral.Server.Metrics;
using Corral.Server.State;
using Corral.Store;
using Corral.Store.Etcd;
using Corral.Store.Sqlite;
using Corral.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Corral.Server.Tests.Leadership;

/// <summary>
/// The etcd leader placement on a real 3-member etcd cluster: the member named like this server plays the member
/// managed beside it. Each test holds a real leadership term (a campaign on the store).
/// </summary>
public sealed class EtcdLeaderPlacementTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task PlaceOnce_LocalMemberLeads_LeadershipMovesToAHealthyFollower_EventRecorded_NextPassLeavesIt()
    {
        await using var etcd = await EtcdCluster.StartAsync(3, new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        await using var store = new EtcdStore(new EtcdStoreOptions { Endpoints = etcd.ClientUrls }, TimeProvider.System, NullLogger<EtcdStore>.Instance);
        var state = new ClusterState(new InstrumentedStore(store), TimeProvider.System);
        var leader = await etcd.WaitForLeaderAsync(timeout: Patience);
        await using var leadership = await store.CampaignAsync(Keys.LeaderElection, Encoding.UTF8.GetBytes("s1"), new ElectionOptions { Ttl = TimeSpan.FromSeconds(10) });
        var term = new LeadershipTerm(leadership, "s1");
        var placement = Placement(state, etcd.Members[leader].Name);

        Assert.Equal(EtcdPlacementOutcome.Moved, await placement.PlaceOnceAsync(term, CancellationToken.None));

        var now = await etcd.WaitForLeaderAsync(timeout: Patience);
        Assert.NotEqual(leader, now);
        var events = (await state.EventsAfterAsync(0, 100, CancellationToken.None)).Events;
        var moved = Assert.Single(events, e => e.Kind == "store.leader.moved");
        Assert.Equal("leader:s1", moved.Actor);
        Assert.Equal("store/etcd", moved.Subject);
        Assert.Contains($"from '{etcd.Members[leader].Name}'", moved.Message, StringComparison.Ordinal);
        Assert.Contains($"to '{etcd.Members[now].Name}'", moved.Message, StringComparison.Ordinal);
        Assert.Contains("the Corral leader s1 runs beside member", moved.Message, StringComparison.Ordinal);

        Assert.Equal(EtcdPlacementOutcome.LeaderElsewhere, await placement.PlaceOnceAsync(term, CancellationToken.None));
        Assert.Equal(now, await etcd.WaitForLeaderAsync(timeout: Patience));
    }

    [Fact]
    public async Task PlaceOnce_LocalMemberFollows_OrAllMembersOnThisMachine_NothingMoves()
    {
        await using var etcd = await EtcdCluster.StartAsync(3, new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        await using var store = new EtcdStore(new EtcdStoreOptions { Endpoints = etcd.ClientUrls }, TimeProvider.System, NullLogger<EtcdStore>.Instance);
        var state = new ClusterState(store, TimeProvider.System);
        var leader = await etcd.WaitForLeaderAsync(timeout: Patience);
        var follower = Enumerable.Range(0, 3).First(i => i != leader);
        await using var leadership = await store.CampaignAsync(Keys.LeaderElection, Encoding.UTF8.GetBytes("s1"), new ElectionOptions { Ttl = TimeSpan.FromSeconds(10) });
        var term = new LeadershipTerm(leadership, "s1");

        Assert.Equal(EtcdPlacementOutcome.LeaderElsewhere, await Placement(state, etcd.Members[follower].Name).PlaceOnceAsync(term, CancellationToken.None));
        // An external etcd whose members all listen on 127.0.0.1: each is "on this machine", so none is this host's own.
        Assert.Equal(EtcdPlacementOutcome.NoLocalMember, await Placement(state, null).PlaceOnceAsync(term, CancellationToken.None));
        // A managed member that is not (or no longer) in the cluster.
        Assert.Equal(EtcdPlacementOutcome.NoLocalMember, await Placement(state, "gone").PlaceOnceAsync(term, CancellationToken.None));

        Assert.Equal(leader, await etcd.WaitForLeaderAsync(timeout: Patience));
        Assert.DoesNotContain((await state.EventsAfterAsync(0, 100, CancellationToken.None)).Events, e => e.Kind == "store.leader.moved");
    }

    [Fact]
    public async Task PlaceOnce_OneFollowerDead_MovesToTheLiveOne()
    {
        await using var etcd = await EtcdCluster.StartAsync(3, new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        var leader = await etcd.WaitForLeaderAsync(timeout: Patience);
        var dead = Enumerable.Range(0, 3).First(i => i != leader);
        var live = Enumerable.Range(0, 3).First(i => i != leader && i != dead);
        await etcd.KillAsync(dead);
        await using var store = new EtcdStore(new EtcdStoreOptions { Endpoints = [etcd.ClientUrls[leader], etcd.ClientUrls[live]] }, TimeProvider.System, NullLogger<EtcdStore>.Instance);
        var state = new ClusterState(store, TimeProvider.System);
        await using var leadership = await store.CampaignAsync(Keys.LeaderElection, Encoding.UTF8.GetBytes("s1"), new ElectionOptions { Ttl = TimeSpan.FromSeconds(10) });
        var term = new LeadershipTerm(leadership, "s1");

        Assert.Equal(EtcdPlacementOutcome.Moved, await Placement(state, etcd.Members[leader].Name).PlaceOnceAsync(term, CancellationToken.None));

        Assert.Equal(live, await etcd.WaitForLeaderAsync(timeout: Patience));
    }

    [Fact]
    public async Task PlaceOnce_TwoMembers_NothingMovesBecauseLosingEitherLosesTheQuorum()
    {
        await using var etcd = await EtcdCluster.StartAsync(2, new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        await using var store = new EtcdStore(new EtcdStoreOptions { Endpoints = etcd.ClientUrls }, TimeProvider.System, NullLogger<EtcdStore>.Instance);
        var state = new ClusterState(store, TimeProvider.System);
        var leader = await etcd.WaitForLeaderAsync(timeout: Patience);
        await using var leadership = await store.CampaignAsync(Keys.LeaderElection, Encoding.UTF8.GetBytes("s1"), new ElectionOptions { Ttl = TimeSpan.FromSeconds(10) });
        var term = new LeadershipTerm(leadership, "s1");

        Assert.Equal(EtcdPlacementOutcome.TooFewMembers, await Placement(state, etcd.Members[leader].Name).PlaceOnceAsync(term, CancellationToken.None));

        Assert.Equal(leader, await etcd.WaitForLeaderAsync(timeout: Patience));
    }

    [Fact]
    public async Task PlaceOnce_SqliteStore_NothingToPlace()
    {
        using var dir = new TempDirectory("corral-placement");
        await using var store = SqliteStore.Open(new SqliteStoreOptions { DataDirectory = dir.Combine("store") }, TimeProvider.System, NullLogger<SqliteStore>.Instance);
        var state = new ClusterState(new InstrumentedStore(store), TimeProvider.System);
        await using var leadership = await store.CampaignAsync(Keys.LeaderElection, Encoding.UTF8.GetBytes("s1"));
        var term = new LeadershipTerm(leadership, "s1");

        Assert.Equal(EtcdPlacementOutcome.NotEtcd, await Placement(state, "s1").PlaceOnceAsync(term, CancellationToken.None));
        // The run idles until the term ends: a controller that returns while its term runs is restarted as failed.
        using var stop = new CancellationTokenSource();
        var run = Placement(state, "s1").RunAsync(term, stop.Token);
        Assert.False(run.IsCompleted);
        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public void Options_EmptyNameOrIntervalOutOfRange_RefusedNamingTheField()
    {
        var errors = new EtcdPlacementOptions { LocalMemberName = "", Interval = TimeSpan.FromMilliseconds(10) }.Validate();
        Assert.Contains(errors, e => e.StartsWith("LocalMemberName", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Interval 10 ms", StringComparison.Ordinal));
        Assert.Empty(new EtcdPlacementOptions().Validate());
    }

    private static EtcdLeaderPlacement Placement(ClusterState state, string? localMember) =>
        new(state, new EtcdPlacementOptions { LocalMemberName = localMember }, TimeProvider.System, NullLogger<EtcdLeaderPlacement>.Instance);
}
