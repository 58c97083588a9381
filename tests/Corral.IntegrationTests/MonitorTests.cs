using System.Diagnostics;
using System.Globalization;
using Corral.Core.Api;
using Corral.Core.Tasks;
using Corral.Testing;

namespace Corral.IntegrationTests;

/// <summary>The leader's monitor against real processes: alarms raised and cleared as the cluster breaks and heals.</summary>
public sealed class MonitorTests
{
    private const int SigKill = 9;
    private const int SigStop = 19;
    private const int SigCont = 18;

    [Fact]
    public async Task ReplicaKilledRepeatedly_CrashLoopAlarmRaisedThenClearedAndTheExecHookRuns()
    {
        var hookLog = Path.Combine(Path.GetTempPath(), $"corral-hook-{Guid.NewGuid():N}.log");
        try
        {
            await using var cluster = await MonitoredCluster.StartAsync($$"""
                { "interval": "500ms", "crash_loop_restarts": 3, "crash_loop_window": "15s",
                  "exec": { "command": "/bin/sh", "args": ["-c", "echo \"$CORRAL_ALARM_EVENT $CORRAL_ALARM_ID $CORRAL_ALARM_SEVERITY\" >> '{{hookLog}}'"] } }
                """);
            var stack = Stacks.Stack("it-crash", "  looper:\n    command: /bin/sh\n    args: [\"-c\", \"exec sleep 100000\"]\n    replicas: 1\n    restart: { policy: always, max_attempts: 50, window: 1m, backoff: 100ms, max_backoff: 200ms }\n    stop_timeout: 5s\n");
            await cluster.Client.DeployAsync(Stacks.Request(stack), CancellationToken.None);

            // Kill until the alarm is up (3 restarts inside the window); on a loaded machine finding each new pid may
            // take long enough that an early restart leaves the window, so a few more kills are allowed (bounded).
            string? replicaId = null;
            var lastPid = 0;
            for (var kill = 0; kill < 8; kill++)
            {
                if (replicaId is not null && kill >= 3
                    && (await cluster.Client.ListAlarmsAsync(all: false, CancellationToken.None)).Any(a => a.Id == "replica.crash_loop.replica." + replicaId))
                {
                    break;
                }
                var replica = await Eventually.ValueAsync(async () =>
                {
                    var service = await cluster.Client.GetServiceAsync("looper", CancellationToken.None);
                    return service.Replicas.FirstOrDefault(r => r.Pid is { } pid && pid != lastPid && r.Replica.State is ReplicaState.Running or ReplicaState.Healthy);
                }, MonitoredCluster.Timeout, "the replica to run with a new pid");
                replicaId ??= replica.Replica.Id;
                Assert.Equal(replicaId, replica.Replica.Id);
                lastPid = replica.Pid!.Value;
                Assert.True(ClusterProcesses.Signal(lastPid, SigKill), $"kill -9 {lastPid}");
            }

            var id = "replica.crash_loop.replica." + replicaId;
            var raised = await cluster.WaitAlarmAsync(id, active: true, "the crash-loop alarm");
            Assert.Equal((AlarmSeverity.Warning, "replica/" + replicaId), (raised.Severity, raised.Subject));
            Assert.Contains("restarted", raised.Message, StringComparison.Ordinal);

            // No more kills: once the restarts leave the 15 s window the alarm clears.
            var cleared = await cluster.WaitAlarmAsync(id, active: false, "the crash-loop alarm to clear");
            Assert.Equal(raised.FirstSeen, cleared.FirstSeen);
            var events = await cluster.EventsAsync();
            Assert.Contains(("alarm.raised", "replica/" + replicaId), events);
            Assert.Contains(("alarm.cleared", "replica/" + replicaId), events);
            await Eventually.TrueAsync(() => File.Exists(hookLog) && File.ReadAllLines(hookLog).Contains($"alarm.cleared {id} warning"),
                MonitoredCluster.Timeout, "the exec hook to run for the raise and the clear");
            Assert.Contains($"alarm.raised {id} warning", File.ReadAllLines(hookLog));
        }
        finally
        {
            File.Delete(hookLog);
        }
    }

    [Fact]
    public async Task AgentStopped_NodeDownAlarmRaised_ClearedWhenItRunsAgain()
    {
        await using var cluster = await MonitoredCluster.StartAsync("""{ "interval": "500ms" }""");
        var agent = cluster.Agent!;

        Assert.True(ClusterProcesses.Signal(agent.Id, SigStop), "SIGSTOP the agent");
        Alarm raised;
        try
        {
            raised = await cluster.WaitAlarmAsync("node.down.node.n1", active: true, "the node-down alarm");
            var status = await cluster.Client.GetStatusAsync(CancellationToken.None);
            Assert.True(status.Alarms!.Critical >= 1);
            Assert.True(status.Health!.Score < 100, $"score {status.Health.Score} with node n1 down");
        }
        finally
        {
            ClusterProcesses.Signal(agent.Id, SigCont);
        }

        var cleared = await cluster.WaitAlarmAsync("node.down.node.n1", active: false, "the node-down alarm to clear");
        Assert.Equal(raised.FirstSeen, cleared.FirstSeen);
        var events = await cluster.EventsAsync();
        Assert.Contains(("alarm.raised", "node/n1"), events);
        Assert.Contains(("alarm.cleared", "node/n1"), events);
        var healed = await Eventually.ValueAsync(async () =>
        {
            var status = await cluster.Client.GetStatusAsync(CancellationToken.None);
            return status.Health is { Score: 100 } ? status : null;
        }, MonitoredCluster.Timeout, "the score back at 100");
        Assert.Equal(new AlarmCounts(0, 0, 0), healed.Alarms);
    }

    [Fact]
    public async Task DiskFilledPastALowThreshold_DiskAlarmRaised_ClearedWhenFreed()
    {
        // The threshold sits 1.5 points above what the file system holds now; a file of 3 points crosses it.
        var (used, usable) = await DfAsync(Path.GetTempPath());
        var percent = 100.0 * used / usable;
        var threshold = Math.Round(percent + 1.5, 2);
        await using var cluster = await MonitoredCluster.StartAsync(
            $$"""{ "interval": "500ms", "disk_threshold_percent": {{threshold.ToString(CultureInfo.InvariantCulture)}} }""");
        var filler = Path.Combine(cluster.AgentDir, "filler.bin");

        await FallocateAsync(filler, (long)(usable * 0.03));
        var raised = await cluster.WaitAlarmAsync("node.disk_full.node.n1", active: true, "the disk alarm");
        Assert.Equal("node/n1", raised.Subject);
        Assert.Contains($"threshold {threshold.ToString(CultureInfo.InvariantCulture)}%", raised.Message, StringComparison.Ordinal);

        File.Delete(filler);
        await cluster.WaitAlarmAsync("node.disk_full.node.n1", active: false, "the disk alarm to clear");
        var events = await cluster.EventsAsync();
        Assert.Contains(("alarm.raised", "node/n1"), events);
        Assert.Contains(("alarm.cleared", "node/n1"), events);
    }

    private static async Task<(long Used, long Usable)> DfAsync(string path)
    {
        var start = new ProcessStartInfo("df", ["--output=used,avail", "-B1", path]) { RedirectStandardOutput = true };
        using var df = Process.Start(start)!;
        var output = await df.StandardOutput.ReadToEndAsync();
        await df.WaitForExitAsync();
        var fields = output.Split('\n', StringSplitOptions.RemoveEmptyEntries)[1].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(long.Parse).ToArray();
        return (fields[0], fields[0] + fields[1]);
    }

    private static async Task FallocateAsync(string path, long bytes)
    {
        using var process = Process.Start(new ProcessStartInfo("fallocate", ["-l", bytes.ToString(CultureInfo.InvariantCulture), path]) { RedirectStandardError = true })!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"fallocate -l {bytes} {path}: {error}");
    }
}
