using System.Diagnostics;
using System.Net;
using Corral.Testing.Lab;
using Xunit.Abstractions;

namespace Corral.ClusterTests.Ha;

/// <summary>
/// The HA scenarios of the issue over real <c>corral server</c> processes (managed etcd), real agents and a client in
/// network namespaces (<see cref="ServerLab"/>): the leader's host dies, is cut off, two of three servers die, and
/// every server is restarted in turn.
/// </summary>
public sealed partial class ServerFailoverTests(ServerLabFixture fixture, ITestOutputHelper output) : IClassFixture<ServerLabFixture>
{
    private static readonly string[] FailureKinds = ["replica.failed", "replica.lost", "replica.crash_loop", "replica.stopped", "node.down"];

    private readonly ServerLab _lab = fixture.Lab;

    [Fact]
    public async Task KillLeaderHost_NewLeaderServesThroughTheVip_NoReplicaRestarts_DeployDuringFailoverLandsOnce()
    {
        await _lab.EnsureSteadyAsync();
        var leader = await _lab.WaitLeaderAsync();
        var before = _lab.ReplicaProcesses();
        var baseline = (await _lab.StatusAsync())!.Revision;
        var round = _lab.Round + 1;

        _lab.KillServerHost(leader);
        var clock = Stopwatch.StartNew();
        // Issued right after the kill, through the VIP: the dead host's kernel still holds the address (until its kernel
        // lifetime runs out, about a second) and refuses connections, then nobody answers until the new leader takes the
        // VIP over; the CLI retries until a server answers.
        var deploy = _lab.DeployAsync(round, "--retry-for", "60s");
        var next = await _lab.WaitLeaderAsync(i => i != leader);
        var holder = _lab.Servers[next];
        var elected = clock.Elapsed;
        var result = await deploy;
        output.WriteLine($"killed {ServerLab.Name(leader)}'s host; {ServerLab.Name(next)} leads through the VIP after {elected.TotalSeconds:0.00} s; the retried deploy finished after {clock.Elapsed.TotalSeconds:0.00} s");

        Assert.True(result.Code == 0, $"the deploy during the failover failed: {result}\n{_lab.Logs()}");
        Assert.True(holder.HasAddress(ServerLab.Vip), $"the new leader {ServerLab.Name(next)} does not hold the VIP");
        using (var probe = ArpProbe.Start(_lab.Client, ServerLab.Vip))
        {
            await _lab.WaitAsync(() => Task.FromResult(probe.LastAnswer().Contains(holder.Mac) ? (bool?)true : null), $"the VIP to answer ARP from the new leader's MAC {holder.Mac}");
        }
        var status = await _lab.StatusAsync();
        Assert.Equal(ServerLab.Name(next), status!.Leader);

        await _lab.WaitAsync(() => Task.FromResult(_lab.ReplicaProcesses() is var now && now.Count(p => p.Service == "roll" && p.Round == round.ToString(System.Globalization.CultureInfo.InvariantCulture)) == 3 && now.Count(p => p.Service == "roll") == 3 ? (bool?)true : null),
            $"the deploy's new 'roll' replicas (ROUND={round}) to replace the old ones");
        var after = _lab.ReplicaProcesses();
        // Nothing the deploy did not change was restarted: same process (PID and start time) on the same host.
        Assert.Equal(Keep(before), Keep(after));
        Assert.DoesNotContain(after.Where(p => p.Service == "roll"), p => before.Any(b => b.Pid == p.Pid && b.StartTime == p.StartTime));

        var events = await _lab.EventsAsync(baseline);
        var deployed = events.Where(e => e.Kind == "stack.deployed" && e.Subject == "stack/" + ServerLab.Stack).ToList();
        Assert.True(deployed.Count == 1, "the deploy must land exactly once: " + string.Join("; ", deployed.Select(e => e.Message)));
        Assert.Single(events, e => e.Kind == "service.updated" && e.Subject == "service/roll");
        Assert.DoesNotContain(events, e => e.Kind == "service.updated" && e.Subject == "service/keep");
        Assert.Contains(events, e => e.Kind == "leader.elected");
        Assert.DoesNotContain(events, e => FailureKinds.Contains(e.Kind) && !e.Subject.Contains("roll", StringComparison.Ordinal));
    }

    [Fact]
    public async Task KillTwoOfThreeServers_WritesRefusedWithQuorumLost_ReadsAnswer_ReplicasKeepRunning_OneBack_WritesResume()
    {
        await _lab.EnsureSteadyAsync();
        var leader = await _lab.WaitLeaderAsync();
        var other = (leader + 1) % 3;
        var survivor = (leader + 2) % 3;
        var before = _lab.ReplicaProcesses();

        _lab.KillServerHost(leader);
        _lab.KillServerHost(other);
        var clock = Stopwatch.StartNew();

        // Through the surviving server: the CLI retries 503 for its budget, then prints the problem and exits 6.
        var earlier = new List<string>();
        var refused = await _lab.WaitValueAsync(async () =>
        {
            var run = await _lab.CliViaAsync(survivor, "service", "scale", "keep", "4", "--retry-for", "2s");
            Assert.True(run.Code != 0, $"a write succeeded with 1 of 3 etcd members: {run}");
            var first = $"exit {run.Code}: {run.Error.Split('\n')[0]}";
            if (!earlier.Contains(first))
            {
                earlier.Add(first);
            }
            // 503 with the quorum reason: titled "quorum lost" once the survivor's quorum monitor noticed, "unavailable"
            // when the write reached etcd first and failed there.
            return run.Code == Corral.Cli.ExitCodes.Unavailable && run.Error.Contains("the store has lost its quorum", StringComparison.Ordinal) ? run : null;
        }, "a write through the survivor to be refused with the quorum message");
        var refusedAfter = clock.Elapsed;
        // Every refusal on the way is a 503 (exit 6), also before the survivor's quorum monitor noticed: never a 500.
        Assert.True(earlier.All(e => e.StartsWith("exit 6", StringComparison.Ordinal)), "a write failed otherwise than with 503: " + string.Join(" | ", earlier)
            + "\n" + string.Join('\n', _lab.Logs(200_000).Split('\n').Where(l => l.Contains(" fail: ", StringComparison.Ordinal) || l.Contains("Exception:", StringComparison.Ordinal)).Take(10).Select(l => l.Length > 700 ? l[..700] : l)));
        Assert.Contains("1 of 3 etcd members answer and 2 are needed", refused.Error, StringComparison.Ordinal);
        var status = await _lab.WaitValueAsync(async () => await _lab.StatusAsync(survivor) is { Leader: null } s ? s : null, "the survivor's status to answer, with no leader");
        Assert.False(status.StoreHealthy);
        Assert.True(status.StoreMembers.Count(m => m.Healthy) < 2, $"{status.StoreMembers.Count(m => m.Healthy)} members healthy with two of three hosts dead");
        var ls = await _lab.CliViaAsync(survivor, "service", "ls");
        Assert.True(ls.Code == 0, ls.ToString());
        Assert.Contains("keep", ls.Out, StringComparison.Ordinal);
        Assert.Equal(All(before), All(_lab.ReplicaProcesses()));
        var scaleBack = false;
        try
        {
            // One server back (its data dir, `server run`): the majority is back and writes resume with no operator action.
            _lab.StartServer(other);
            var restarted = Stopwatch.StartNew();
            var resumed = await _lab.WaitValueAsync(async () =>
            {
                var run = await _lab.CliViaAsync(survivor, "service", "scale", "keep", "4", "--retry-for", "2s");
                return run.Code == 0 ? run : null;
            }, "writes to resume once a second server is back");
            scaleBack = true;
            output.WriteLine($"killed {ServerLab.Name(leader)} and {ServerLab.Name(other)}: a write through {ServerLab.Name(survivor)} refused with the quorum message (exit 6) after {refusedAfter.TotalSeconds:0.00} s (answers until then: {string.Join(" | ", earlier)}); {ServerLab.Name(other)} restarted: writes resumed after {restarted.Elapsed.TotalSeconds:0.00} s");
            Assert.Contains("keep", resumed.Out + resumed.Error, StringComparison.Ordinal);
            Assert.Equal(All(before), All(_lab.ReplicaProcesses().Where(p => before.Any(b => b.Pid == p.Pid))));
            Assert.All(before, b => Assert.Contains(_lab.ReplicaProcesses(), p => p.Pid == b.Pid && p.StartTime == b.StartTime));
        }
        finally
        {
            if (scaleBack)
            {
                var back = await _lab.CliViaAsync(survivor, "service", "scale", "keep", "3");
                Assert.True(back.Code == 0, back.ToString());
            }
        }
    }

    [Fact]
    public async Task RollingRestartOfEveryServer_NoReplicaRestarted_NoDeployLost()
    {
        await _lab.EnsureSteadyAsync();
        var leader = await _lab.WaitLeaderAsync();
        var before = _lab.ReplicaProcesses();
        var baseline = (await _lab.StatusAsync())!.Revision;
        var rounds = new List<int>();

        // An upgrade: followers first, the leader last; each one stopped (SIGTERM), started again, back and healthy,
        // then a deploy.
        foreach (var server in Enumerable.Range(0, 3).OrderBy(i => i == leader ? 1 : 0))
        {
            var clock = Stopwatch.StartNew();
            await _lab.StopServerAsync(server);
            _lab.StartServer(server);
            await _lab.WaitAsync(async () =>
            {
                var status = await _lab.StatusAsync();
                var own = await _lab.StatusAsync(server);
                return status is { Leader: not null } && own is not null
                    && status.StoreMembers.Count == 3 && status.StoreMembers.All(m => m.Healthy) ? (bool?)true : null;
            }, $"{ServerLab.Name(server)} to be back and every member healthy");
            var back = clock.Elapsed;
            var round = _lab.Round + 1;
            var deploy = await _lab.DeployAsync(round);
            Assert.True(deploy.Code == 0, $"the deploy after restarting {ServerLab.Name(server)} failed: {deploy}\n{_lab.Logs()}");
            rounds.Add(round);
            output.WriteLine($"{ServerLab.Name(server)}{(server == leader ? " (leader)" : "")} restarted and back in {back.TotalSeconds:0.00} s; deploy ROUND={round} done after {clock.Elapsed.TotalSeconds:0.00} s");
        }

        var last = rounds[^1].ToString(System.Globalization.CultureInfo.InvariantCulture);
        await _lab.WaitAsync(() => Task.FromResult(_lab.ReplicaProcesses() is var now && now.Count(p => p.Service == "roll") == 3 && now.All(p => p.Service != "roll" || p.Round == last) ? (bool?)true : null),
            $"every 'roll' replica to run the last deploy (ROUND={last})");
        Assert.Equal(Keep(before), Keep(_lab.ReplicaProcesses()));
        var events = await _lab.EventsAsync(baseline);
        Assert.Equal(3, events.Count(e => e.Kind == "stack.deployed" && e.Subject == "stack/" + ServerLab.Stack));
        Assert.Equal(3, events.Count(e => e.Kind == "service.updated" && e.Subject == "service/roll"));
        Assert.DoesNotContain(events, e => FailureKinds.Contains(e.Kind) && !e.Subject.Contains("roll", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CutLeaderHostOff_ItDropsTheVipAndAnotherLeads_NeverTwoMacsInOneInterval_HealOneLeaderReachable()
    {
        await _lab.EnsureSteadyAsync();
        var leader = await _lab.WaitLeaderAsync();
        var host = _lab.Servers[leader];
        var baseline = (await _lab.StatusAsync())!.Revision;
        using var arp = ArpProbe.Start(_lab.Client, ServerLab.Vip);
        await _lab.WaitAsync(() => Task.FromResult(arp.LastAnswer() is [var mac] && mac == host.Mac ? (bool?)true : null), "the ARP probe to see the leader's MAC");
        using var tcp = TcpAnswerProbe.StartConnect(_lab.Client, new IPEndPoint(ServerLab.Vip, ServerLab.Port));
        var start = arp.Count;

        host.CutOff();
        var clock = Stopwatch.StartNew();
        await _lab.WaitAsync(() => Task.FromResult(host.HasAddress(ServerLab.Vip) ? null : (bool?)true), $"the cut-off leader {host.Name} to drop the VIP");
        var dropped = clock.Elapsed;
        var next = await _lab.WaitLeaderAsync(i => i != leader);
        var took = clock.Elapsed;
        // Its own view while cut off: it does not lead (its member has no quorum).
        var own = await _lab.CliOnServerHostAsync(leader, "status", "-o", "json", "--retry-for", "0");
        Assert.NotEqual(ServerLab.Name(leader), LeaderIn(own));

        host.Heal();
        var healedAt = DateTimeOffset.UtcNow;
        var healed = Stopwatch.StartNew();
        var view = await _lab.WaitValueAsync(async () =>
        {
            var run = await _lab.CliOnServerHostAsync(leader, "status", "-o", "json", "--retry-for", "0");
            return LeaderIn(run) == ServerLab.Name(next) ? run : null;
        }, "the healed host's own server to name the new leader");
        var caughtUp = healed.Elapsed;
        // Keep probing a while after the heal: had the old leader taken the VIP back, both would answer now.
        while (healed.Elapsed < TimeSpan.FromSeconds(3))
        {
            await Task.Delay(100);
        }
        var status = await _lab.StatusAsync();
        var elections = (await _lab.EventsAsync(baseline)).Where(e => e.Kind is "leader.elected" or "leader.lost").Select(e => $"{e.Time:HH:mm:ss.fff} {e.Kind} {e.Message}").ToList();
        var history = $"leadership since the cut (at {DateTimeOffset.UtcNow - clock.Elapsed:HH:mm:ss.fff}, healed at {healedAt:HH:mm:ss.fff}):\n  {string.Join("\n  ", elections)}";
        output.WriteLine(history);

        var intervals = arp.Since(start);
        Assert.True(intervals.Count > 50, $"only {intervals.Count} ARP probe intervals");
        var doubled = intervals.Where(i => i.Macs.Count > 1).ToList();
        Assert.True(doubled.Count == 0, "two MACs answered for the VIP in one 20 ms interval: " + string.Join("; ", doubled.Select(i => $"{i.Start:HH:mm:ss.fff} {string.Join(",", i.Macs)}")));
        var holders = _lab.Servers.Where(h => h.HasAddress(ServerLab.Vip)).ToList();
        Assert.True(holders.Count == 1 && holders[0] == _lab.Servers[next], $"VIP holders after the heal: {string.Join(", ", holders)}; expected only {_lab.Servers[next]}\n{history}\n{_lab.Logs()}");
        Assert.Equal(ServerLab.Name(next), status!.Leader);
        Assert.Equal(ServerLab.Name(next), LeaderIn(view));
        // Clients on h7 (never cut) reach the API port through the VIP: the longest stretch without a connection
        // around the heal, and every attempt from 1 s after it on.
        var gap = tcp.GapAround(healedAt);
        Assert.True(gap is { } g && g.Gap < TimeSpan.FromSeconds(1), $"no connection through the VIP for {gap?.Gap} around the heal");
        var late = tcp.Attempts.Where(a => a.At > healedAt + TimeSpan.FromSeconds(1)).ToList();
        Assert.NotEmpty(late);
        Assert.All(late, a => Assert.Equal("connected", a.Answer));
        output.WriteLine($"cut {ServerLab.Name(leader)}'s host off: VIP dropped after {dropped.TotalSeconds:0.00} s, {ServerLab.Name(next)} leads through the VIP after {took.TotalSeconds:0.00} s; " +
            $"healed: its own server names {ServerLab.Name(next)} after {caughtUp.TotalSeconds:0.00} s; longest gap around the heal {gap!.Value.Gap.TotalMilliseconds:0} ms; {intervals.Count} ARP intervals, none with two MACs");
    }

    /// <summary>The leader named by a <c>corral status -o json</c> run, or null (none, or the run failed).</summary>
    private static string? LeaderIn(CliResult run) =>
        run.Code == 0 ? System.Text.Json.JsonSerializer.Deserialize(run.Out, Corral.Core.CoreJson.Default.ClusterStatus)?.Leader : null;

    private static List<(string Host, int Pid, long StartTime)> All(IEnumerable<ReplicaProcess> processes) =>
        [.. processes.Select(p => (p.Host, p.Pid, p.StartTime)).Order()];

    private static List<(string Host, int Pid, long StartTime)> Keep(IEnumerable<ReplicaProcess> processes) =>
        [.. processes.Where(p => p.Service == "keep").Select(p => (p.Host, p.Pid, p.StartTime)).Order()];
}
