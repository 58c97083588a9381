using System.Globalization;
using System.Net;
using System.Text.Json;
using Corral.Testing;
using Corral.Testing.Lab;

namespace Corral.Bench;

/// <summary>
/// <c>failover [--trials 10] [--partition-trials 3] [--partition-seconds 8] [--corral-timing default|fast] [--skip-keepalived]</c>,
/// in the multi-host lab (needs root), in one run: (a) keepalived (VRRPv2, <c>advert_int 1</c>) on two hosts, its
/// failover time the gap in TCP answers seen by a client host opening a connection to the VIP every 20 ms; (b) Corral
/// for real (<see cref="ServerLab"/>: three <c>corral server</c> processes with managed etcd and the VIP, three agents
/// running a stack), its failover time the gap in TCP connections accepted on the API port through the VIP, and (c)
/// the gap in <c>/readyz</c> 200 answers through the VIP (the API with its store), both probed every 50 ms from the
/// client host. Per trial every process of the VIP holder's host is SIGKILLed. Partition trials cut the holder off for
/// a while and heal it, counting the 20 ms intervals in which two hosts had the VIP on their interface (sampled from
/// each host's kernel).
/// </summary>
internal static partial class FailoverBench
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private static readonly IPEndPoint Target = new(VipLab.Vip, VipLab.AnswerPort);

    public static async Task<int> RunAsync(string[] args)
    {
        var trials = 10;
        var partitionTrials = 3;
        var partitionSeconds = 8.0;
        var corralTiming = "default";
        var skipKeepalived = false;
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--trials" when value is not null:
                    trials = int.Parse(value, CultureInfo.InvariantCulture);
                    i++;
                    break;
                case "--partition-trials" when value is not null:
                    partitionTrials = int.Parse(value, CultureInfo.InvariantCulture);
                    i++;
                    break;
                case "--partition-seconds" when value is not null:
                    partitionSeconds = double.Parse(value, CultureInfo.InvariantCulture);
                    i++;
                    break;
                case "--corral-timing" when value is "default" or "fast":
                    corralTiming = value;
                    i++;
                    break;
                case "--skip-keepalived":
                    skipKeepalived = true;
                    break;
                default:
                    Console.Error.WriteLine($"failover: unknown or incomplete option '{args[i]}'; usage: failover [--trials 10] [--partition-trials 3] [--partition-seconds 8] [--corral-timing default|fast] [--skip-keepalived]");
                    return 2;
            }
        }
        if (trials < 1 || partitionTrials < 0 || partitionSeconds is < 1 or > 120)
        {
            Console.Error.WriteLine("failover: --trials must be at least 1, --partition-trials at least 0 and --partition-seconds from 1 to 120");
            return 2;
        }
        if (!File.Exists("/usr/sbin/keepalived"))
        {
            throw new InvalidOperationException("keepalived not found: run scripts/install-deps.sh (Debian package 'keepalived')");
        }

        var keepalived = skipKeepalived ? null : await KeepalivedAsync(trials, partitionTrials, TimeSpan.FromSeconds(partitionSeconds));
        var corralRun = await CorralAsync(trials, partitionTrials, TimeSpan.FromSeconds(partitionSeconds), corralTiming);
        var corral = corralRun.Vip;

        Console.WriteLine();
        Console.WriteLine($"VIP failover in the lab: {trials} host kills, {partitionTrials} partitions of {partitionSeconds:0.#} s; TCP answers every 20 ms from a client host");
        Console.WriteLine($"{"system",-40} {"kill median",12} {"kill max",10} {"kill min",10} {"partition takeover",19} {"2-holder intervals",19}");
        foreach (var r in new[] { keepalived, corral }.OfType<FailoverFigures>())
        {
            Console.WriteLine($"{r.System,-40} {r.KillMedian,10:0.000} s {r.KillMax,8:0.000} s {r.KillMin,8:0.000} s {r.PartitionMedian,17:0.000} s {r.DoubleHolderIntervals,19}");
        }
        Console.WriteLine($"{"corral API through the VIP (/readyz 200)",-40} {corralRun.ApiKillMedian,10:0.000} s {corralRun.ApiKillMax,8:0.000} s");
        Console.WriteLine("kill: every process of the holder's host SIGKILLed; keepalived: gap in TCP answers (every 20 ms); corral: gap in accepted TCP connections to the API port");
        Console.WriteLine("(every 50 ms); partition takeover: keepalived TCP answers, corral /readyz answers; 2-holder intervals: 20 ms slots, summed over kills (live hosts) and partitions (all hosts)");
        Console.WriteLine($"etcd leader moved off the Corral leader's host {corralRun.PlacementMoves} times");
        Console.WriteLine($"load average (1 min) at the end: {LoadAverage():0.00} on {Environment.ProcessorCount} cores");
        var json = new Dictionary<string, object>
        {
            ["trials"] = trials,
            ["partition_trials"] = partitionTrials,
            ["partition_seconds"] = partitionSeconds,
            ["corral_timing"] = corralTiming,
            ["corral_ttl_s"] = (corralTiming == "fast" ? Corral.Server.HaTiming.Fast : Corral.Server.HaTiming.Default).LeaseTtl.TotalSeconds,
            ["load_average_1m"] = LoadAverage(),
        };
        if (keepalived is not null)
        {
            json["keepalived_kill_median_s"] = Math.Round(keepalived.KillMedian, 3);
            json["keepalived_kill_max_s"] = Math.Round(keepalived.KillMax, 3);
            json["keepalived_partition_takeover_median_s"] = Math.Round(keepalived.PartitionMedian, 3);
            json["keepalived_double_holder_intervals"] = keepalived.DoubleHolderIntervals;
        }
        json["corral_kill_median_s"] = Math.Round(corral.KillMedian, 3);
        json["corral_kill_max_s"] = Math.Round(corral.KillMax, 3);
        json["corral_partition_takeover_median_s"] = Math.Round(corral.PartitionMedian, 3);
        json["corral_double_holder_intervals"] = corral.DoubleHolderIntervals;
        json["corral_api_kill_median_s"] = Math.Round(corralRun.ApiKillMedian, 3);
        json["corral_api_kill_max_s"] = Math.Round(corralRun.ApiKillMax, 3);
        json["corral_etcd_leader_moves"] = corralRun.PlacementMoves;
        Console.WriteLine(JsonSerializer.Serialize(json));
        return 0;
    }

    /// <summary>The 1-minute load average (the machine is shared; figures on a loaded machine are slower).</summary>
    private static double LoadAverage() =>
        File.Exists("/proc/loadavg") ? double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture) : double.NaN;

    private static FailoverFigures Figures(string system, List<double> kills, List<double> partitions, int doubles)
    {
        kills.Sort();
        partitions.Sort();
        return new FailoverFigures(system, Median(kills), kills[^1], kills[0], partitions.Count == 0 ? double.NaN : Median(partitions), doubles);
    }

    private static double Median(List<double> sorted) =>
        sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;

    /// <summary>Waits until the client has had answers from one host only for the last second, and returns that host's name.</summary>
    private static async Task<string> WaitStableAsync(TcpAnswerProbe client, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < deadline)
        {
            var since = DateTimeOffset.UtcNow - TimeSpan.FromSeconds(1);
            var recent = client.Attempts.Where(a => a.At >= since).ToList();
            if (recent.Count >= 20 && recent.All(a => a.Answer is not null) && recent.Select(a => a.Answer).Distinct().Count() == 1)
            {
                return recent[0].Answer!;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"{what}: the client did not get steady answers through the VIP within {Patience.TotalSeconds} s");
    }

    /// <summary>Waits until the client gets an answer from a host other than <paramref name="old"/>; returns the gap around <paramref name="at"/>.</summary>
    private static async Task<double> WaitTakeoverAsync(TcpAnswerProbe client, DateTimeOffset at, string old, string what, LabNetwork lab)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < deadline)
        {
            // The old holder may still answer an attempt that started just after the kill: the gap runs from the last
            // answer of anyone to the first answer of another host.
            var attempts = client.Attempts.ToList();
            var first = attempts.FindIndex(a => a.At > at && a.Answer is not null && a.Answer != old);
            if (first >= 0)
            {
                var previous = first == 0 ? -1 : attempts.FindLastIndex(first - 1, a => a.Answer is not null);
                return (attempts[first].At - (previous >= 0 ? attempts[previous].At : at)).TotalSeconds;
            }
            await Task.Delay(50);
        }
        var holders = string.Join(", ", lab.Hosts.Where(h => h.HasAddress(VipLab.Vip)).Select(h => h.ToString()));
        var neighbour = Shell.Ip("-n", lab.Hosts[^1].Namespace, "neigh", "show", VipLab.Vip.ToString()).Trim();
        throw new TimeoutException($"{what}: no other host answered through the VIP within {Patience.TotalSeconds} s (holders: {holders}; client's neighbour entry: {neighbour})");
    }
}
