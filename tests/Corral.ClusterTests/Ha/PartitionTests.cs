using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Corral.Testing.Lab;
using Xunit.Abstractions;

namespace Corral.ClusterTests.Ha;

/// <summary>
/// Issue 22's failure promises over silent partitions, on real servers, agents and a client in network namespaces,
/// each scenario repeated <see cref="PartitionLabFixture.Repeat"/> times (<c>CORRAL_LAB_REPEAT=20</c> for the issue's
/// runs), with a singleton watched from another host (<see cref="SingletonWitness"/>) and random choices from a
/// printed seed (<c>CORRAL_LAB_SEED</c> repeats a run).
/// </summary>
public sealed partial class PartitionTests(PartitionLabFixture fixture, ITestOutputHelper output) : IClassFixture<PartitionLabFixture>
{
    private static readonly string[] FailureKinds = ["replica.failed", "replica.lost", "replica.crash_loop", "replica.stopped", "node.down"];

    private readonly ServerLab _lab = fixture.Lab;
    private readonly SingletonWitness _witness = fixture.Witness;

    /// <summary>
    /// Item 1 and 4: cut each server off in turn (its bridge port detached: packets silently dropped). Writes through
    /// the VIP never fail but for the cut server's own share (when it held the VIP, until another server does), none
    /// is refused as "quorum lost"; no node goes down, no replica is fenced, evicted or restarted, the singleton keeps its
    /// one process; the agents of the cut server are heard by another within 2 s.
    /// </summary>
    [Fact]
    public async Task CutEachServerOffInTurn_NoWriteRefusedBeyondItsShare_NothingFencedEvictedOrRestarted_AgentsMoveOnAtOnce()
    {
        var reconnects = new List<double>();
        var outages = new List<double>();
        for (var round = 0; round < PartitionLabFixture.Repeat * 3; round++)
        {
            await _lab.EnsureSteadyAsync();
            var singleton = await SteadySingletonAsync();
            var leader = await _lab.WaitLeaderAsync();
            // The leader, then each follower, in turn.
            var server = (leader + round % 3) % 3;
            var before = _lab.ReplicaProcesses();
            var baseline = (await _lab.StatusAsync())!.Revision;
            var host = _lab.Servers[server];
            var agentLogs = Enumerable.Range(0, 3).Select(i => _lab.AgentLog(i).Length).ToArray();

            using var writes = ApiWriteProbe.Start(_lab.Client, new IPEndPoint(ServerLab.Vip, ServerLab.Port), _lab.ClientConfig, _lab.AgentNode(0));
            await Task.Delay(TimeSpan.FromSeconds(1));
            var cutAt = DateTimeOffset.UtcNow;
            host.CutOff();
            // Longer than the 6-7 s after which the healthy servers used to refuse every write.
            await Task.Delay(TimeSpan.FromSeconds(9));
            var healedAt = DateTimeOffset.UtcNow;
            host.Heal();
            await Task.Delay(TimeSpan.FromSeconds(3));
            writes.Dispose();

            var all = writes.Writes;
            var during = all.Where(w => w.At >= cutAt).ToList();
            Assert.DoesNotContain(all, w => w.Problem.Contains("quorum", StringComparison.OrdinalIgnoreCase));
            string outage;
            if (server == leader)
            {
                // Its own share: writes sent to it (it held the VIP) until another server holds the VIP.
                var firstGood = during.FirstOrDefault(w => w.Succeeded) ?? throw new Xunit.Sdk.XunitException($"no write succeeded after cutting the leader off at {cutAt:HH:mm:ss.fff} (logs in {_lab.SaveLogs("cut-leader-none")})\n{string.Join('\n', during)}");
                var after = during.Where(w => w.At > firstGood.At && !w.Succeeded).ToList();
                Assert.True(after.Count == 0, $"writes failed after the new leader answered (cut at {cutAt:HH:mm:ss.fff}, logs in {(after.Count == 0 ? "" : _lab.SaveLogs("cut-leader"))}):\n{string.Join('\n', after)}\n{_lab.Logs()}");
                outages.Add((firstGood.At - cutAt).TotalSeconds);
                outage = $"leader cut: writes answered again {(firstGood.At - cutAt).TotalSeconds:0.00} s after the cut";
            }
            else
            {
                var failed = all.Where(w => !w.Succeeded).ToList();
                Assert.True(failed.Count == 0, $"cutting off follower {ServerLab.Name(server)} at {cutAt:HH:mm:ss.fff} failed {failed.Count} of {all.Count} writes through the VIP (logs in {(failed.Count == 0 ? "" : _lab.SaveLogs("cut-follower"))}):\n{string.Join('\n', failed.Take(20))}\n{_lab.Logs()}");
                outage = $"follower cut: {all.Count} writes, none failed";
            }

            await _lab.WaitSteadyAsync();
            var events = await _lab.EventsAsync(baseline);
            Assert.DoesNotContain(events, e => FailureKinds.Contains(e.Kind) || e.Message.Contains("fenced", StringComparison.Ordinal));
            Assert.Equal(Key(before), Key(_lab.ReplicaProcesses()));
            var instances = _witness.Instances();
            Assert.True(instances[^1].Replica == singleton.Replica && instances.Count(i => i.Last > cutAt) == 1,
                $"the singleton did not keep its one instance:\n{SingletonWitness.Describe(instances)}");
            Assert.True(Gaps(singleton.Replica, cutAt, DateTimeOffset.UtcNow) < TimeSpan.FromSeconds(1), "the singleton stopped ticking for a while:\n" + SingletonWitness.Describe(instances));

            // The agents that talked to the cut server: the first heartbeat acknowledged by another one after the cut.
            var moved = new List<string>();
            for (var agent = 0; agent < 3; agent++)
            {
                var log = _lab.AgentLog(agent)[agentLogs[agent]..];
                var failedThere = Lines(log).FirstOrDefault(l => l.At >= cutAt && l.Text.Contains($"Heartbeat to https://{host.Address}:{ServerLab.Port}/ failed", StringComparison.Ordinal));
                if (failedThere.Text is null)
                {
                    continue;
                }
                var back = Lines(log).FirstOrDefault(l => l.At >= failedThere.At && l.Text.Contains("Heartbeat acknowledged by", StringComparison.Ordinal));
                Assert.True(back.Text is not null, $"{_lab.AgentNode(agent)} was not heard by another server after the cut:\n{log}");
                var took = back.At - cutAt;
                reconnects.Add(took.TotalSeconds);
                moved.Add($"{_lab.AgentNode(agent)} {took.TotalSeconds:0.00} s");
                Assert.True(took < TimeSpan.FromSeconds(2), $"{_lab.AgentNode(agent)} took {took.TotalSeconds:0.00} s to be heard by another server:\n{log}");
            }
            var slowest = all.Where(w => w.Succeeded).MaxBy(w => w.Done - w.At);
            output.WriteLine($"round {round + 1}: cut {ServerLab.Name(server)}{(server == leader ? " (leader)" : "")} for {(healedAt - cutAt).TotalSeconds:0.0} s; {outage}; slowest write {(slowest is null ? 0 : (slowest.Done - slowest.At).TotalMilliseconds):0} ms; agents heard elsewhere after: {(moved.Count == 0 ? "none talked to it" : string.Join(", ", moved))}");
        }
        output.WriteLine($"agents heard elsewhere: {Summary(reconnects)}; leader cuts, writes answered again after: {Summary(outages)}");
    }

    /// <summary>
    /// Items 2 and 3: cut the singleton's node off the servers (blackhole routes to every server and the VIP: the
    /// singleton still reaches the witness) or off everything (bridge port detached). The old instance is gone before
    /// the new one starts elsewhere, by the margin the timing rule keeps; the smallest gap is printed.
    /// </summary>
    [Theory]
    [InlineData("blackhole")]
    [InlineData("detach")]
    public async Task IsolateTheSingletonsNode_OldInstanceGoneBeforeTheNewStarts(string how)
    {
        var random = new Random(PartitionLabFixture.Seed + how.Length);
        output.WriteLine($"seed {PartitionLabFixture.Seed}");
        var gaps = new List<double>();
        for (var round = 0; round < PartitionLabFixture.Repeat; round++)
        {
            await _lab.EnsureSteadyAsync();
            var old = await SteadySingletonAsync();
            var node = AgentOf(old);
            var host = _lab.Agents[node];
            await Task.Delay(TimeSpan.FromMilliseconds(random.Next(0, 1000)));
            var isolatedAt = DateTimeOffset.UtcNow;
            if (how == "blackhole")
            {
                host.Blackhole([.. _lab.Servers.Select(s => s.Address), ServerLab.Vip]);
            }
            else
            {
                host.CutOff();
            }
            var next = await _lab.WaitValueAsync(() => Task.FromResult(_witness.Instances().FirstOrDefault(i => i.First > isolatedAt && i.Replica != old.Replica)),
                $"a new instance of the singleton after isolating {_lab.AgentNode(node)}");
            await Task.Delay(TimeSpan.FromSeconds(1));
            host.ClearBlackholes();
            if (host.IsCutOff)
            {
                host.Heal();
            }
            await _lab.WaitSteadyAsync();
            var settled = await SteadySingletonAsync();

            var instances = _witness.Instances().Where(i => i.Last >= isolatedAt - TimeSpan.FromSeconds(1)).ToList();
            var oldSeen = instances.Single(i => i.Replica == old.Replica);
            var gap = next.First - oldSeen.Last;
            gaps.Add(gap.TotalSeconds);
            output.WriteLine($"round {round + 1} ({how} {_lab.AgentNode(node)}): old instance's last tick {(oldSeen.Last - isolatedAt).TotalSeconds:0.00} s after the isolation, the new one's first {(next.First - isolatedAt).TotalSeconds:0.00} s; gap {gap.TotalSeconds:0.000} s; now {settled.Replica}");
            Assert.True(gap > TimeSpan.Zero, $"two instances ran at once ({how}):\n{SingletonWitness.Describe(instances)}\n{_lab.AgentLog(node)}\n{_lab.Logs()}");
            Assert.True(SingletonWitness.SmallestGap(instances) > TimeSpan.Zero, SingletonWitness.Describe(instances));
        }
        output.WriteLine($"{how}: smallest gap between the old instance's last tick and the new one's first: {gaps.Min():0.000} s ({Summary(gaps)})");
    }

    /// <summary>
    /// Item 3: the singleton's agent is SIGKILLed (its supervisor stops the singleton by the fence), then started again
    /// at a random moment around the eviction (from 3 s before to 1.5 s after). Whether the leader evicts first or the
    /// node comes back first, one guarded record decides: never two instances at once.
    /// </summary>
    [Fact]
    public async Task KillAndRestartTheSingletonsAgentAroundTheEviction_NeverTwoInstances()
    {
        var random = new Random(PartitionLabFixture.Seed);
        output.WriteLine($"seed {PartitionLabFixture.Seed}");
        var gaps = new List<double>();
        for (var round = 0; round < PartitionLabFixture.Repeat; round++)
        {
            await _lab.EnsureSteadyAsync();
            var old = await SteadySingletonAsync();
            var node = AgentOf(old);
            var killedAt = DateTimeOffset.UtcNow;
            _lab.KillAgent(node);
            var offset = TimeSpan.FromMilliseconds(random.Next(-3000, 1500));
            var restartAt = killedAt + PartitionLabFixture.Eviction + offset;
            var wait = restartAt - DateTimeOffset.UtcNow;
            await Task.Delay(wait > TimeSpan.Zero ? wait : TimeSpan.Zero);
            _lab.StartAgent(node);
            await _lab.WaitSteadyAsync();
            var settled = await SteadySingletonAsync();
            await Task.Delay(TimeSpan.FromSeconds(2));

            var instances = _witness.Instances().Where(i => i.Last >= killedAt - TimeSpan.FromSeconds(1)).ToList();
            var smallest = SingletonWitness.SmallestGap(instances);
            output.WriteLine($"round {round + 1}: killed {_lab.AgentNode(node)}'s agent, started it {(offset.TotalSeconds >= 0 ? "+" : "")}{offset.TotalSeconds:0.00} s around the eviction; "
                + (settled.Replica == old.Replica ? "it kept its singleton (back before the eviction)" : $"the singleton was replaced ({settled.Replica})")
                + (smallest is { } g ? $"; gap {g.TotalSeconds:0.000} s" : ""));
            Assert.True(smallest is null || smallest > TimeSpan.Zero, $"two instances ran at once:\n{SingletonWitness.Describe(instances)}\n{_lab.AgentLog(node)}\n{_lab.Logs()}");
            if (smallest is { } gap)
            {
                gaps.Add(gap.TotalSeconds);
            }
        }
        output.WriteLine(gaps.Count == 0 ? "no replacement happened" : $"smallest gap between two instances: {gaps.Min():0.000} s ({Summary(gaps)})");
    }

    /// <summary>Waits until exactly one instance of the singleton ticks (heard in the last second) and returns it.</summary>
    private async Task<WitnessedInstance> SteadySingletonAsync() => await _lab.WaitValueAsync(() =>
    {
        var now = DateTimeOffset.UtcNow;
        var live = _witness.Instances().Where(i => now - i.Last < TimeSpan.FromSeconds(1) && i.LastHeard is { } heard && now - heard < TimeSpan.FromSeconds(1)).ToList();
        return Task.FromResult(live.Count == 1 && live[0].First < now - TimeSpan.FromSeconds(1) ? live[0] : null);
    }, "exactly one instance of the singleton to tick at the witness");

    /// <summary>The agent whose host the instance's datagrams come from.</summary>
    private int AgentOf(WitnessedInstance instance) =>
        Enumerable.Range(0, 3).Single(i => _lab.Agents[i].Address.ToString() == instance.From);

    /// <summary>The longest stretch without a tick of <paramref name="replica"/> between two moments.</summary>
    private TimeSpan Gaps(string replica, DateTimeOffset from, DateTimeOffset to)
    {
        var ticks = _witness.Ticks(replica).Where(t => t >= from && t <= to).Order().ToList();
        var longest = TimeSpan.Zero;
        for (var i = 1; i < ticks.Count; i++)
        {
            longest = ticks[i] - ticks[i - 1] > longest ? ticks[i] - ticks[i - 1] : longest;
        }
        return longest;
    }

    private static IEnumerable<(string Service, string Host, int Pid, long Start)> Key(IEnumerable<ReplicaProcess> processes) =>
        processes.Select(p => (p.Service, p.Host, p.Pid, p.StartTime)).Order();

    /// <summary>The console lines of a Corral process that start with a timestamp.</summary>
    private static IEnumerable<(DateTimeOffset At, string Text)> Lines(string log)
    {
        foreach (var line in log.Split('\n'))
        {
            var match = StampedLine().Match(line);
            if (match.Success && DateTimeOffset.TryParse(match.Groups[1].Value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
            {
                yield return (at, line);
            }
        }
    }

    private static string Summary(IReadOnlyCollection<double> values) => values.Count == 0
        ? "none"
        : $"n={values.Count}, min {values.Min():0.000}, median {values.Order().ElementAt(values.Count / 2):0.000}, max {values.Max():0.000}";

    [GeneratedRegex(@"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) ")]
    private static partial Regex StampedLine();
}
