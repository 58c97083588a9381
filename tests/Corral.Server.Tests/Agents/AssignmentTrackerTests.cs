using Corral.Core.Cluster;
using Corral.Core.Tasks;
using Corral.Server.Agents;
using Corral.Server.Tests.Controllers;
using Microsoft.Extensions.Logging.Abstractions;

namespace Corral.Server.Tests.Agents;

public class AssignmentTrackerTests
{
    [Fact]
    public async Task RollingUpdate_OldReplicasKeepTheirOwnVersionsTask_OneNewAtATime()
    {
        await using var h = new StoreHarness();
        await h.AddNodesAsync("a");
        var term = await h.LeadAsync();
        var reconciler = h.Reconciler();
        var v1 = StoreHarness.Service("web", 2);
        await h.PutServiceAsync(v1);
        await reconciler.ReconcileOnceAsync(term, CancellationToken.None);
        await h.MarkAllHealthyAsync();
        var tracker = new AssignmentTracker(h.State, TimeProvider.System, NullLogger<AssignmentTracker>.Instance);
        await tracker.StartAsync(CancellationToken.None);
        try
        {
            var v2 = v1 with { Task = v1.Task with { Args = ["3600"] } };
            Assert.NotEqual(v1.Version, v2.Version);
            await h.PutServiceAsync(v2);

            var outcome = await reconciler.ReconcileOnceAsync(term, CancellationToken.None);
            Assert.Equal(1, outcome.Placed);
            Assert.Equal(0, outcome.Stopping);

            var revision = await h.Store.GetRevisionAsync();
            var set = await tracker.GetAssignmentsAsync("a", 0, TimeSpan.FromSeconds(10), CancellationToken.None);
            for (var polls = 0; set.Index < revision; polls++)
            {
                Assert.True(polls < 10, $"the tracker is stuck at revision {set.Index}, the store is at {revision}");
                set = await tracker.GetAssignmentsAsync("a", set.Index, TimeSpan.FromSeconds(10), CancellationToken.None);
            }
            Assert.Equal(3, set.Assignments.Count);
            Assert.Equal(2, set.Assignments.Count(a => a.Version == v1.Version && a.Task.Args.SequenceEqual(["infinity"])));
            Assert.Single(set.Assignments, a => a.Version == v2.Version && a.Task.Args.SequenceEqual(["3600"]));

            // Until the new replica is healthy, nothing more happens.
            Assert.True((await reconciler.ReconcileOnceAsync(term, CancellationToken.None)).Idle);
            await h.MarkAllHealthyAsync();
            var next = await reconciler.ReconcileOnceAsync(term, CancellationToken.None);
            Assert.Equal(1, next.Stopping);
            Assert.Equal(1, next.Placed);
            var replicas = await h.ReplicasAsync();
            Assert.Single(replicas, r => r.Phase == ReplicaPhase.Stopping && r.Version == v1.Version);
            Assert.Equal(2, replicas.Count(r => r.Phase == ReplicaPhase.Assigned && r.Version == v2.Version));
            Assert.Equal(2, replicas.Count(r => r.Phase == ReplicaPhase.Assigned && r.State == ReplicaState.Healthy));
        }
        finally
        {
            await tracker.StopAsync(CancellationToken.None);
            tracker.Dispose();
        }
    }
}
