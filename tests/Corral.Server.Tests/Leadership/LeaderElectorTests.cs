using System.Diagnostics;
using Corral.Server.Leadership;
using Corral.Server.State;
using Corral.Server.Tests.Controllers;
using Microsoft.Extensions.Logging.Abstractions;

namespace Corral.Server.Tests.Leadership;

public class LeaderElectorTests
{
    private static LeaderElector Elector(StoreHarness h, string name, ILeaderController controller) => new(
        h.Store,
        new ClusterState(h.Store, TimeProvider.System),
        [controller],
        // Handovers here are by resign or stop, never by waiting for a TTL; a roomy TTL keeps a loaded machine from losing a term.
        new ControlPlaneOptions { ServerName = name, ElectionTtl = TimeSpan.FromSeconds(10) },
        TimeProvider.System,
        NullLogger<LeaderElector>.Instance);

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"timed out waiting until {what}");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task TwoElectors_OneLeadsThenHandsOverOnResign_ControllersCancelledOnLoss()
    {
        await using var h = new StoreHarness();
        var running = new StrongBox<int>();
        var ca = new RecordingController("a", running);
        var cb = new RecordingController("b", running);
        var a = Elector(h, "alpha", ca);
        var b = Elector(h, "beta", cb);
        await a.StartAsync(CancellationToken.None);
        await WaitUntilAsync(() => a.IsLeader, "alpha leads");
        await b.StartAsync(CancellationToken.None);
        try
        {
            await WaitUntilAsync(() => ca.Steps.Contains("run"), "alpha's controller runs");
            Assert.False(b.IsLeader);
            Assert.Equal("alpha", await b.GetLeaderAsync(CancellationToken.None));
            Assert.NotNull(a.CurrentTerm);
            Assert.Null(b.CurrentTerm);

            await a.ResignAsync(CancellationToken.None);

            await WaitUntilAsync(() => b.IsLeader && cb.Steps.Contains("run"), "beta leads and runs its controller");
            await WaitUntilAsync(() => ca.Steps.Contains("revoke"), "alpha revokes");
            Assert.Equal(["establish", "run", "cancelled-by-loss", "revoke"], ca.Steps.Take(4));
            Assert.False(a.IsLeader);
            Assert.Equal("beta", await a.GetLeaderAsync(CancellationToken.None));
            Assert.Equal(1, Math.Max(ca.MaxConcurrent, cb.MaxConcurrent));

            // Stopping the leader hands over again: alpha campaigned anew behind beta.
            await b.StopAsync(CancellationToken.None);
            await WaitUntilAsync(() => a.IsLeader && ca.Steps.Count(s => s == "run") == 2, "alpha leads again");
            Assert.Equal(["establish", "run", "cancelled", "revoke"], cb.Steps);
            Assert.False(b.IsLeader);
        }
        finally
        {
            await a.StopAsync(CancellationToken.None);
            await b.StopAsync(CancellationToken.None);
            a.Dispose();
            b.Dispose();
        }
        Assert.Null(await h.Store.GetLeaderAsync(Keys.LeaderElection));
        var kinds = await h.EventKindsAsync();
        Assert.Equal(3, kinds.Count(k => k == "leader.elected"));
        Assert.Equal(3, kinds.Count(k => k == "leader.lost"));
    }

    [Fact]
    public async Task LeaderKeyRevokedBehindItsBack_ControllersCancelledThenNewTerm()
    {
        await using var h = new StoreHarness();
        var running = new StrongBox<int>();
        var controller = new RecordingController("a", running);
        var a = Elector(h, "alpha", controller);
        await a.StartAsync(CancellationToken.None);
        try
        {
            await WaitUntilAsync(() => controller.Steps.Contains("run"), "alpha's controller runs");
            var first = a.CurrentTerm!;

            // The lease vanishes as if it had expired: the term is over, whatever alpha thinks.
            try
            {
                await h.Store.RevokeLeaseAsync(first.LeaseId);
            }
            catch (Corral.Store.LeaseNotFoundException)
            {
                // Already gone by itself (renewals starved on a loaded machine): the same loss.
            }

            await WaitUntilAsync(() => controller.Steps.Count(s => s == "run") == 2, "alpha leads a new term");
            Assert.Equal(["establish", "run", "cancelled-by-loss", "revoke", "establish", "run"], controller.Steps);
            Assert.True(first.Token.IsCancellationRequested);
            Assert.True(a.CurrentTerm!.Term > first.Term);
        }
        finally
        {
            await a.StopAsync(CancellationToken.None);
            a.Dispose();
        }
    }

    [Fact]
    public async Task ObserveLeader_YieldsEachLeader()
    {
        await using var h = new StoreHarness();
        var running = new StrongBox<int>();
        var a = Elector(h, "alpha", new RecordingController("a", running));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var seen = new List<string?>();
        var observing = Task.Run(async () =>
        {
            await foreach (var leader in a.ObserveLeaderAsync(cts.Token))
            {
                seen.Add(leader);
                if (leader == "alpha")
                {
                    return;
                }
            }
        });
        await a.StartAsync(CancellationToken.None);
        try
        {
            await observing;
            Assert.Equal("alpha", seen[^1]);
        }
        finally
        {
            await a.StopAsync(CancellationToken.None);
            a.Dispose();
        }
    }

    [Fact]
    public void Options_Invalid_EveryErrorNamesItsField()
    {
        var options = new ControlPlaneOptions
        {
            ServerName = "bad name/",
            ElectionTtl = TimeSpan.FromMilliseconds(1500),
            ReconcileInterval = TimeSpan.Zero,
            HeartbeatGrace = TimeSpan.FromHours(1),
            ReconcileDebounce = TimeSpan.FromSeconds(-1),
            MaxAssignmentsWait = TimeSpan.Zero,
        };

        var errors = options.Validate();

        Assert.Equal(6, errors.Count);
        foreach (var field in new[] { "ServerName", "ElectionTtl", "ReconcileInterval", "HeartbeatGrace", "ReconcileDebounce", "MaxAssignmentsWait" })
        {
            Assert.Single(errors, e => e.StartsWith(field, StringComparison.Ordinal));
        }
        var thrown = Assert.Throws<ArgumentException>(options.ThrowIfInvalid);
        Assert.Contains("MaxAssignmentsWait", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_Defaults_AreValidAndDocumented()
    {
        var options = new ControlPlaneOptions();
        Assert.Empty(options.Validate());
        Assert.Equal(TimeSpan.FromSeconds(2), options.ElectionTtl);
        Assert.Equal(TimeSpan.FromSeconds(1), options.ReconcileInterval);
        Assert.Equal(TimeSpan.FromSeconds(5), options.HeartbeatGrace);
    }
}
