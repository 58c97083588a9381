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
public sealed class ServerFailoverTests(ServerLabFixture fixture, ITestOutputHelper output) : IClassFixture<ServerLabFixture>
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
        // Issued right after the kill, through the VIP: the dead host's kernel still holds the address and refuses
        // connections until the new leader takes the VIP over; the CLI retries until a server answers.
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

    private static List<(string Host, int Pid, long StartTime)> Keep(IEnumerable<ReplicaProcess> processes) =>
        [.. processes.Where(p => p.Service == "keep").Select(p => (p.Host, p.Pid, p.StartTime)).Order()];
}
