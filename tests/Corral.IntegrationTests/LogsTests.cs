using System.Globalization;
using System.Text.Json;
using Corral.Core;
using Corral.Core.Api;
using Corral.Testing;

namespace Corral.IntegrationTests;

/// <summary>Central logs end to end: a real server, a joined agent, its supervisor and a task writing numbered lines.</summary>
public sealed class LogsTests : IAsyncLifetime
{
    private JoinedCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await JoinedCluster.StartAsync("corral-logs");

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    /// <summary>The numbers the service's lines carry so far (<c>n=K</c>), and the last number once it said so.</summary>
    private async Task<(List<int> Numbers, int? Last)> NumbersAsync()
    {
        var numbers = new List<int>();
        int? last = null;
        await foreach (var record in _cluster.Client.GetLogsAsync("counter", null, null, null, null, false, CancellationToken.None))
        {
            Parse(record, numbers, ref last);
        }
        return (numbers, last);
    }

    private static void Parse(LogRecord record, List<int> numbers, ref int? last)
    {
        if (record.Text.StartsWith("n=", StringComparison.Ordinal))
        {
            numbers.Add(int.Parse(record.Text.AsSpan(2), CultureInfo.InvariantCulture));
        }
        else if (record.Text.StartsWith("last=", StringComparison.Ordinal))
        {
            last = int.Parse(record.Text.AsSpan(5), CultureInfo.InvariantCulture);
        }
    }

    private async Task<int> WaitForMoreAsync(int than, string what) =>
        await Eventually.ValueAsync(async () =>
        {
            var (numbers, _) = await NumbersAsync();
            return numbers.Count > than ? (int?)numbers.Count : null;
        }, JoinedCluster.Timeout, what) ?? 0;

    /// <summary>Runs <c>corral logs counter -o json</c> and checks that it shows every number from 1 to the last exactly once.</summary>
    private async Task AssertEveryNumberOnceAsync(string log)
    {
        var (exit, output) = await _cluster.RunCliAsync(log, "logs", "counter", "-o", "json");
        Assert.True(exit == 0, $"corral logs exited {exit}\n{output}");
        var numbers = new List<int>();
        int? last = null;
        var records = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonSerializer.Deserialize(l, CoreJson.Default.LogRecord)!).ToList();
        foreach (var record in records)
        {
            Assert.Equal("n1", record.Node);
            Parse(record, numbers, ref last);
        }
        var replicas = string.Join(", ", records.GroupBy(r => r.ReplicaId).Select(g => $"{g.Key}: {g.Count()} lines, {g.Count(r => r.Text.StartsWith("last=", StringComparison.Ordinal))} last lines"));
        Assert.True(records.Count(r => r.Text.StartsWith("last=", StringComparison.Ordinal)) == 1, $"{log}: one run of the counter expected; replicas {replicas}");
        Assert.NotNull(last);
        var duplicates = numbers.GroupBy(n => n).Where(g => g.Count() > 1).Select(g => g.Key).Take(10).ToList();
        var missing = Enumerable.Range(1, last.Value).Except(numbers).Take(10).ToList();
        Assert.True(duplicates.Count == 0 && missing.Count == 0 && numbers.Count == last.Value,
            $"{numbers.Count} numbered lines for 1..{last}: duplicates [{string.Join(", ", duplicates)}], missing [{string.Join(", ", missing)}]");
    }

    [Fact]
    public async Task Logs_NumberedLinesAcrossAgentAndServerRestarts_EachNumberExactlyOnceAlsoAfterTheNodeIsGone()
    {
        var agent = await _cluster.JoinAgentAsync("a1", "n1");
        await Eventually.ValueAsync(async () =>
        {
            Assert.False(agent.HasExited, "the agent exited\n" + _cluster.Log("a1.log"));
            return (await _cluster.Client.ListNodesAsync(CancellationToken.None)).FirstOrDefault(n => n.Node.Name == "n1" && n.LastHeartbeat is not null);
        }, JoinedCluster.Timeout, "node n1 to heartbeat");

        var stop = _cluster.Combine("stop-counting");
        var script = $"i=0; while [ ! -f '{stop}' ]; do i=$((i+1)); echo n=$i; sleep 0.01; done; echo last=$i; exec sleep 100000";
        var yaml = Stacks.Stack("logs",
            $"  counter:\n    command: /bin/sh\n    args: [\"-c\", \"{script}\"]\n    replicas: 1\n    restart: {{ policy: always, backoff: 200ms }}\n    stop_timeout: 5s\n    eviction_timeout: 300s\n");
        await _cluster.Client.DeployAsync(Stacks.Request(yaml), CancellationToken.None);
        var before = await WaitForMoreAsync(50, "the first numbered lines to reach the server");

        // The agent dies hard while the task keeps writing (the supervisor owns it), then starts again.
        ClusterProcesses.Signal(agent.Id, 9);
        using (var wait = new CancellationTokenSource(JoinedCluster.Timeout))
        {
            await agent.WaitForExitAsync(wait.Token);
        }
        await Task.Delay(TimeSpan.FromSeconds(1));
        var again = _cluster.StartAgent("a1", "a1-again.log");
        var afterAgent = await WaitForMoreAsync(before + 100, "shipping to resume after the agent restart");
        Assert.False(again.HasExited, "the restarted agent exited\n" + _cluster.Log("a1-again.log"));

        // Someone follows the logs from here on, across the server restart; Ctrl-C ends that cleanly.
        var follower = _cluster.StartCli("logs-follow.log", "logs", "counter", "-f", "--tail", "1");
        await Eventually.ValueAsync(
            () => Task.FromResult(_cluster.Log("logs-follow.log").Contains("| n=", StringComparison.Ordinal) ? "following" : null),
            JoinedCluster.Timeout, "corral logs -f to print a line");

        // The server crashes (a batch may be stored but not acknowledged) while the agent keeps collecting lines, then
        // comes back on the same store.
        await _cluster.StopServerAsync(signal: 9);
        await Task.Delay(TimeSpan.FromSeconds(2));
        await _cluster.StartServerAsync();
        await WaitForMoreAsync(afterAgent + 200, "shipping to resume after the server restart");

        await File.WriteAllTextAsync(stop, "");
        await Eventually.ValueAsync(async () => (await NumbersAsync()).Last, JoinedCluster.Timeout, "the last line to be shipped");
        await AssertEveryNumberOnceAsync("logs-1.log");
        await Eventually.ValueAsync(
            () => Task.FromResult(_cluster.Log("logs-follow.log").Contains("| last=", StringComparison.Ordinal) ? "followed" : null),
            JoinedCluster.Timeout, "corral logs -f to print the last line");
        Assert.False(follower.HasExited, "corral logs -f ended by itself\n" + _cluster.Log("logs-follow.log"));
        ClusterProcesses.Signal(follower.Id, 2);
        using (var wait = new CancellationTokenSource(JoinedCluster.Timeout))
        {
            await follower.WaitForExitAsync(wait.Token);
        }
        Assert.True(follower.ExitCode == 0, $"corral logs -f exited {follower.ExitCode} on Ctrl-C\n" + _cluster.Log("logs-follow.log"));
        // What the follower printed, across the server's restart: every number from its first on, once, in order.
        var followLog = _cluster.Log("logs-follow.log");
        var followed = followLog.Split('\n').Where(l => l.Contains(" | n=", StringComparison.Ordinal))
            .Select(l => int.Parse(l[(l.IndexOf(" | n=", StringComparison.Ordinal) + 5)..].Trim(), CultureInfo.InvariantCulture)).ToList();
        var lastNumber = (await NumbersAsync()).Last!.Value;
        Assert.True(followed.Count > 0 && followed.SequenceEqual(Enumerable.Range(followed[0], lastNumber - followed[0] + 1)),
            $"corral logs -f printed {followed.Count} numbers from {followed.FirstOrDefault()} for a last of {lastNumber}\n{followLog[..Math.Min(followLog.Length, 3000)]}");
        Assert.Contains("following again", followLog, StringComparison.Ordinal);

        // The agent keeps no log of its own beyond the segment the supervisor is still writing.
        var taskLogs = Directory.GetDirectories(Path.Combine(_cluster.Combine("a1"), "tasks")).Select(d => Path.Combine(d, "logs")).Where(Directory.Exists).ToList();
        Assert.All(taskLogs, d => Assert.True(Directory.GetFiles(d).Length <= 1, $"{d}: {string.Join(", ", Directory.GetFiles(d))}"));
        Assert.False(Directory.Exists(Path.Combine(_cluster.Combine("a1"), "logs")), "the agent keeps a copy of the log in DATA/logs");

        // The node is gone for good: its lines are still served, from the store.
        _cluster.KillNode("a1");
        await _cluster.Client.RemoveNodeAsync("n1", CancellationToken.None);
        await AssertEveryNumberOnceAsync("logs-2.log");
        var (exit, human) = await _cluster.RunCliAsync("logs-3.log", "logs", "counter", "--tail", "1");
        Assert.Equal(0, exit);
        Assert.Matches(@"^counter-\S+@n1 \| last=\d+\s*$", human);
        var (missingExit, missing) = await _cluster.RunCliAsync("logs-4.log", "logs", "nope");
        Assert.True(missingExit == 3, $"expected exit 3 (not found), got {missingExit}\n{missing}");
    }
}
