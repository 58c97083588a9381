using System.Globalization;
using Corral.Core.Cluster;
using Corral.Testing;
using Corral.Testing.Logging;

namespace Corral.IntegrationTests;

/// <summary>
/// Singleton fencing with real processes: the cut-off agent talks to the server through a <see cref="TcpProxy"/> that
/// the test cuts (the agent keeps running, as on a machine whose link died). The singleton appends its start and stop,
/// with wall-clock nanoseconds and its task directory (which names the node's data dir), to a witness file.
/// </summary>
public sealed partial class AgentJoinTests
{
    private static readonly TimeSpan FenceAfter = TimeSpan.FromSeconds(3);

    /// <summary>How long before a cut or freeze the node's last heartbeat may have been: a heartbeat interval and some slack.</summary>
    private static readonly TimeSpan LastHeartbeatBeforeCut = TimeSpan.FromSeconds(1.2);

    [Fact]
    public async Task Singleton_NodeCutOffPastEviction_StopsAfterFenceAfterAndReplacementStartsAfterEvictionWithoutOverlap()
    {
        var eviction = TimeSpan.FromSeconds(7);
        await using var proxy = new TcpProxy(_port);
        var witness = _dir.Combine("witness-lost.txt");
        var token = (await Client.CreateJoinTokenAsync("10m", 2, "agent", CancellationToken.None)).Token;
        var cut = StartAgent("fb", "--server", ProxyUrl(proxy), "--token", token, "--name", "fb");
        await WaitHeartbeatAsync("fb", cut, "fb.log", DateTimeOffset.MinValue);
        await Client.DeployAsync(Stacks.Request(Stacks.Stack("fence", Witnessed("locker", witness, eviction))), CancellationToken.None);
        var first = await Eventually.ValueAsync(async () => (await Client.ListReplicasAsync("locker", "fb", CancellationToken.None)).FirstOrDefault(r => r.Pid is not null), Timeout, "the singleton to run on fb");
        var healthy = StartAgent("fa", "--server", ServerUrl, "--token", token, "--name", "fa");
        await WaitHeartbeatAsync("fa", healthy, "fa.log", DateTimeOffset.MinValue);
        await Eventually.TrueAsync(() => Lines(witness).Count(l => l.Kind == "start") == 1, Timeout, "the singleton's start in the witness");

        var cutAt = DateTimeOffset.UtcNow;
        proxy.Cut();
        var replacement = await Eventually.ValueAsync(async () =>
            (await Client.ListReplicasAsync("locker", "fa", CancellationToken.None)).FirstOrDefault(r => r.Pid is not null), Timeout, "a replacement on fa");
        await Eventually.TrueAsync(() => Lines(witness).Any(l => l.Kind == "start" && l.Node == "fa"), Timeout, "the replacement's start in the witness");

        var lines = Lines(witness);
        var stopB = Assert.Single(lines, l => l.Kind == "stop" && l.Node == "fb");
        var startA = Assert.Single(lines, l => l.Kind == "start" && l.Node == "fa");
        var witnessLog = string.Join('\n', lines) + "\n" + Log("fb.log");
        // fence_after counts from the send of the last acknowledged heartbeat, a heartbeat interval or more before the
        // cut: never stopped while connected, and well before the eviction.
        Assert.True(stopB.At > cutAt, $"fb stopped its singleton {(cutAt - stopB.At).TotalSeconds:0.00} s before the cut\n{witnessLog}");
        Assert.True(stopB.At - cutAt < eviction, $"fb stopped its singleton only {(stopB.At - cutAt).TotalSeconds:0.00} s after the cut\n{witnessLog}");
        // eviction_timeout counts from the node's last heartbeat, up to a heartbeat interval (1 s) before the cut.
        Assert.True(startA.At - cutAt >= eviction - LastHeartbeatBeforeCut, $"the replacement started {(startA.At - cutAt).TotalSeconds:0.00} s after the cut, before eviction_timeout\n{witnessLog}");
        Assert.NotEqual(first.Replica.Id, replacement.Replica.Id);
        // fb's own log tells the fence: stop sent, then the process gone, timestamped around the task's own stop.
        AssertFenceLogged(ConsoleLogLine.Parse(Log("fb.log")), 6130, 6131, first.Replica.Id, cutAt, stopB.At, witnessLog);

        // Contact returns after the eviction: the fenced replica was replaced, so it never starts again on fb.
        var healedAt = DateTimeOffset.UtcNow;
        proxy.Heal();
        await WaitHeartbeatAsync("fb", cut, "fb.log", healedAt);
        var lost = await Eventually.ValueAsync(async () =>
            (await Client.ListReplicasAsync("locker", null, CancellationToken.None)).FirstOrDefault(r => r.Replica.Id == first.Replica.Id), Timeout, "the first replica's record");
        Assert.Equal(ReplicaPhase.Lost, lost.Replica.Phase);
        await Task.Delay(TimeSpan.FromSeconds(3));
        lines = Lines(witness);
        Assert.Single(lines, l => l.Kind == "start" && l.Node == "fb");
        AssertNoOverlap(lines);
        Assert.Single(await Client.ListReplicasAsync("locker", null, CancellationToken.None), r => r.Replica.Phase == ReplicaPhase.Assigned);
    }

    [Fact]
    public async Task Singleton_NodeCutOffShorterThanEviction_IsFencedReportedAndStartedAgainWhenAssignedAgain()
    {
        var eviction = TimeSpan.FromSeconds(60);
        await using var proxy = new TcpProxy(_port);
        var witness = _dir.Combine("witness-back.txt");
        var token = (await Client.CreateJoinTokenAsync("10m", 1, "agent", CancellationToken.None)).Token;
        var agent = StartAgent("fc", "--server", ProxyUrl(proxy), "--token", token, "--name", "fc");
        await WaitHeartbeatAsync("fc", agent, "fc.log", DateTimeOffset.MinValue);
        await Client.DeployAsync(Stacks.Request(Stacks.Stack("fence", Witnessed("keeper", witness, eviction))), CancellationToken.None);
        var first = await Eventually.ValueAsync(async () => (await Client.ListReplicasAsync("keeper", "fc", CancellationToken.None)).FirstOrDefault(r => r.Pid is not null), Timeout, "the singleton to run on fc");
        await Eventually.TrueAsync(() => Lines(witness).Count(l => l.Kind == "start") == 1, Timeout, "the singleton's start in the witness");

        var cutAt = DateTimeOffset.UtcNow;
        proxy.Cut();
        await Eventually.TrueAsync(() => Lines(witness).Any(l => l.Kind == "stop"), Timeout, "the fenced singleton's stop in the witness");
        var stop = Lines(witness).Single(l => l.Kind == "stop");
        Assert.True(stop.At > cutAt, $"stopped {(cutAt - stop.At).TotalSeconds:0.00} s before the cut");
        Assert.True(stop.At - cutAt <= FenceAfter + TimeSpan.FromSeconds(2), $"stopped only {(stop.At - cutAt).TotalSeconds:0.00} s after the cut (fence_after {FenceAfter.TotalSeconds} s)");
        // Cut off, the agent does not start it again on its own.
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Single(Lines(witness), l => l.Kind == "start");

        proxy.Heal();
        var events = await Eventually.ValueAsync(async () =>
        {
            var page = await Client.GetEventsAsync(0, null, 1000, CancellationToken.None);
            return page.Events.FirstOrDefault(e => e.Subject == "replica/" + first.Replica.Id && e.Message.Contains("fenced:", StringComparison.Ordinal));
        }, Timeout, "an event saying the node fenced the replica");
        Assert.Equal("node:fc", events.Actor);
        await Eventually.TrueAsync(() => Lines(witness).Count(l => l.Kind == "start") == 2, Timeout, "the singleton to start again once assigned again");
        var again = await Eventually.ValueAsync(async () => (await Client.ListReplicasAsync("keeper", "fc", CancellationToken.None)).FirstOrDefault(r => r.Pid is not null), Timeout, "the singleton to run again");
        Assert.Equal(first.Replica.Id, again.Replica.Id);
        Assert.NotEqual(first.Pid, again.Pid);
        AssertNoOverlap(Lines(witness));
    }

    [Fact]
    public async Task Singleton_AgentFrozenWithSigstop_SupervisorStopsItAfterFenceAfterAndReplacementStartsAfterEvictionWithoutOverlap()
    {
        var eviction = TimeSpan.FromSeconds(7);
        var witness = _dir.Combine("witness-frozen.txt");
        var token = (await Client.CreateJoinTokenAsync("10m", 2, "agent", CancellationToken.None)).Token;
        var frozen = StartAgent("fz", "--server", ServerUrl, "--token", token, "--name", "fz");
        await WaitHeartbeatAsync("fz", frozen, "fz.log", DateTimeOffset.MinValue);
        await Client.DeployAsync(Stacks.Request(Stacks.Stack("fence", Witnessed("frozen", witness, eviction))), CancellationToken.None);
        await Eventually.ValueAsync(async () => (await Client.ListReplicasAsync("frozen", "fz", CancellationToken.None)).FirstOrDefault(r => r.Pid is not null), Timeout, "the singleton to run on fz");
        var healthy = StartAgent("fy", "--server", ServerUrl, "--token", token, "--name", "fy");
        await WaitHeartbeatAsync("fy", healthy, "fy.log", DateTimeOffset.MinValue);
        await Eventually.TrueAsync(() => Lines(witness).Count(l => l.Kind == "start") == 1, Timeout, "the singleton's start in the witness");

        // The agent is frozen, not cut off: only the supervisor, which owns the task, can stop it now.
        var frozenAt = DateTimeOffset.UtcNow;
        Assert.True(ClusterProcesses.Signal(frozen.Id, 19), "SIGSTOP the agent");
        try
        {
            await Eventually.TrueAsync(() => Lines(witness).Any(l => l.Kind == "start" && l.Node == "fy"), Timeout, "the replacement's start on fy");
        }
        finally
        {
            ClusterProcesses.Signal(frozen.Id, 18);
        }
        var lines = Lines(witness);
        var stop = Assert.Single(lines, l => l.Kind == "stop" && l.Node == "fz");
        var start = Assert.Single(lines, l => l.Kind == "start" && l.Node == "fy");
        var shown = string.Join('\n', lines);
        Assert.True(stop.At > frozenAt, $"stopped {(frozenAt - stop.At).TotalSeconds:0.00} s before the freeze\n{shown}");
        Assert.True(stop.At - frozenAt < eviction, $"stopped only {(stop.At - frozenAt).TotalSeconds:0.00} s after the freeze\n{shown}");
        Assert.True(start.At - frozenAt >= eviction - LastHeartbeatBeforeCut, $"the replacement started {(start.At - frozenAt).TotalSeconds:0.00} s after the freeze, before eviction_timeout\n{shown}");
        // The supervisor's log tells its fence: fired, stop sent, process gone, timestamped around the task's own stop.
        var supervisorLog = ConsoleLogLine.Parse(File.ReadAllText(Path.Combine(_dir.Combine("fz"), "supervisor", "supervisor.out")));
        var fired = Assert.Single(supervisorLog, l => l.EventId == 6215);
        Assert.True(fired.At >= frozenAt.AddMilliseconds(-1), $"the supervisor's fence fired at {fired.At:HH:mm:ss.fff}, before the freeze\n{shown}");
        AssertFenceLogged(supervisorLog, 6216, 6217, null, fired.At, stop.At, shown);

        // Thawed, the agent finds its singleton fenced and replaced: it never starts it again.
        var thawedAt = DateTimeOffset.UtcNow;
        await WaitHeartbeatAsync("fz", frozen, "fz.log", thawedAt);
        await Task.Delay(TimeSpan.FromSeconds(3));
        lines = Lines(witness);
        Assert.True(lines.Count(l => l.Kind == "start" && l.Node == "fz") == 1,
            $"the thawed agent started its fenced and replaced singleton again:\n{string.Join('\n', lines)}\n--- fz.log\n{Log("fz.log")}\n--- supervisor\n{File.ReadAllText(Path.Combine(_dir.Combine("fz"), "supervisor", "supervisor.out"))}");
        AssertNoOverlap(lines);
    }

    private static string ProxyUrl(TcpProxy proxy) => $"https://127.0.0.1:{proxy.Port.ToString(CultureInfo.InvariantCulture)}";

    private async Task WaitHeartbeatAsync(string node, System.Diagnostics.Process agent, string log, DateTimeOffset after) =>
        await Eventually.ValueAsync(async () =>
        {
            Assert.False(agent.HasExited, $"agent {node} exited\n" + Log(log));
            return (await Client.ListNodesAsync(CancellationToken.None)).FirstOrDefault(n => n.Node.Name == node && n.LastHeartbeat > after);
        }, Timeout, $"node {node} to heartbeat");

    /// <summary>A singleton that writes <c>start|stop NANOS TASK-DIR</c> lines to <paramref name="witness"/>.</summary>
    /// <summary>
    /// Asserts that <paramref name="log"/> has one fence stop-sent line (<paramref name="sentId"/>) and one process-gone
    /// line (<paramref name="goneId"/>) for the task, in that order, after <paramref name="after"/>, with the task's own
    /// stop (written by its TERM trap) between them; log times are cut to the millisecond.
    /// </summary>
    private static void AssertFenceLogged(IReadOnlyList<ConsoleLogLine> log, int sentId, int goneId, string? replica, DateTimeOffset after, DateTimeOffset stoppedAt, string shown)
    {
        var lines = log.Where(l => replica is null || l.Message.Contains(replica, StringComparison.Ordinal)).ToList();
        var all = string.Join('\n', log.Select(l => $"{l.At:HH:mm:ss.fff} {l.Level} {l.EventId} {l.Message}"));
        var sent = Assert.Single(lines, l => l.EventId == sentId);
        var gone = Assert.Single(lines, l => l.EventId == goneId);
        var slack = TimeSpan.FromMilliseconds(2);
        Assert.True(sent.At >= after - slack && sent.At <= gone.At, $"fence lines out of order\n{all}\n{shown}");
        Assert.True(sent.At <= stoppedAt + slack && stoppedAt <= gone.At + slack,
            $"the task stopped at {stoppedAt:HH:mm:ss.fff}, not between the stop sent ({sent.At:HH:mm:ss.fff}) and the process gone ({gone.At:HH:mm:ss.fff})\n{all}\n{shown}");
        Assert.Equal(["warn", "warn"], new[] { sent.Level, gone.Level });
    }

    private static string Witnessed(string name, string witness, TimeSpan eviction)
    {
        var script = $"echo start $(date +%s%N) $CORRAL_TASK_DIR >> {witness}; "
            + $"trap 'echo stop $(date +%s%N) $CORRAL_TASK_DIR >> {witness}; exit 0' TERM; "
            + "while true; do sleep 0.1; done";
        return $"  {name}:\n    command: /bin/sh\n    args: [\"-c\", \"{script}\"]\n    replicas: 1\n"
            + "    restart: { policy: always, backoff: 200ms }\n    stop_timeout: 2s\n"
            + $"    eviction_timeout: {(int)eviction.TotalSeconds}s\n    fence_after: {(int)FenceAfter.TotalSeconds}s\n";
    }

    private sealed record WitnessLine(string Kind, DateTimeOffset At, string Node)
    {
        public override string ToString() => $"{Kind} {At:HH:mm:ss.fff} {Node}";
    }

    private IReadOnlyList<WitnessLine> Lines(string witness)
    {
        if (!File.Exists(witness))
        {
            return [];
        }
        var root = _dir.Path + "/";
        return [.. File.ReadAllLines(witness).Where(l => l.Length > 0).Select(l =>
        {
            var parts = l.Split(' ', 3);
            var at = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(parts[1], CultureInfo.InvariantCulture) / 1_000_000);
            var node = parts[2].StartsWith(root, StringComparison.Ordinal) ? parts[2][root.Length..].Split('/')[0] : parts[2];
            return new WitnessLine(parts[0], at, node);
        })];
    }

    /// <summary>Pairs each start with the next stop of the same node; no two such intervals may overlap.</summary>
    private static void AssertNoOverlap(IReadOnlyList<WitnessLine> lines)
    {
        var intervals = new List<(DateTimeOffset Start, DateTimeOffset End, string Node)>();
        foreach (var start in lines.Where(l => l.Kind == "start"))
        {
            var end = lines.Where(l => l.Kind == "stop" && l.Node == start.Node && l.At >= start.At).Select(l => (DateTimeOffset?)l.At).Min() ?? DateTimeOffset.MaxValue;
            intervals.Add((start.At, end, start.Node));
        }
        intervals.Sort((a, b) => a.Start.CompareTo(b.Start));
        for (var i = 1; i < intervals.Count; i++)
        {
            Assert.True(intervals[i].Start >= intervals[i - 1].End,
                $"{intervals[i].Node} started at {intervals[i].Start:HH:mm:ss.fff} while {intervals[i - 1].Node} ran until {intervals[i - 1].End:HH:mm:ss.fff}\n{string.Join('\n', lines)}");
        }
    }
}
