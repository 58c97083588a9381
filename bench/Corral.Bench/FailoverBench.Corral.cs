using System.Globalization;
using System.Net;
using Corral.Testing.Lab;

namespace Corral.Bench;

internal static partial class FailoverBench
{
    /// <summary>
    /// (b) and (c) Corral: the HA lab of real processes (<see cref="ServerLab"/>): h1..h3 run <c>corral server</c> with a
    /// managed etcd member each and the VIP (HaTiming profile <paramref name="timing"/>), h4..h6 agents with a stack, h7
    /// the client. A probe on h7 opens a new TLS connection to the API port through the VIP every 50 ms and asks
    /// <c>/readyz</c>: (b) is the gap in accepted TCP connections, (c) the gap in 200 answers (the API and its store
    /// usable through the VIP).
    /// </summary>
    private static async Task<CorralFailoverFigures> CorralAsync(int trials, int partitionTrials, TimeSpan partition, string timing)
    {
        await using var lab = await ServerLab.StartAsync(timing);
        using var ca = lab.LoadCa();
        using var client = ApiAnswerProbe.Start(lab.Client, new IPEndPoint(ServerLab.Vip, ServerLab.Port), ca);
        using var poller = VipHolderPoller.Start(lab.Servers, ServerLab.Vip);
        var kills = new List<double>();
        var apiKills = new List<double>();
        var partitions = new List<double>();
        var doubles = 0;

        for (var trial = 1; trial <= trials; trial++)
        {
            var leader = await lab.WaitLeaderAsync();
            await WaitReadyAsync(client);
            var host = lab.Servers[leader];
            lab.KillServerHost(leader);
            // Counted from when every process of the host is gone: an attempt that started during the kill may still
            // have been accepted by the dying server, and it is the last answer before the gap.
            var at = DateTimeOffset.UtcNow;
            var tcp = await WaitGapAsync(client, at, a => a.Connected, "TCP connections through the VIP");
            var api = await WaitGapAsync(client, at, a => a.Ready, "/readyz through the VIP");
            kills.Add(tcp);
            apiKills.Add(api);
            doubles += poller.DoubleHolderIntervals(at, DateTimeOffset.UtcNow, new HashSet<LabHost> { host });
            Console.Error.WriteLine($"failover: corral kill {trial}/{trials}: {host.Name} (leader {ServerLab.Name(leader)}) killed; TCP through the VIP back after {tcp:0.000} s, the API after {api:0.000} s");
            // The host comes back: `server run` restarts its etcd member and drops the VIP its dead run left.
            await lab.EnsureSteadyAsync();
        }
        for (var trial = 1; trial <= partitionTrials; trial++)
        {
            var leader = await lab.WaitLeaderAsync();
            await WaitReadyAsync(client);
            var host = lab.Servers[leader];
            var at = DateTimeOffset.UtcNow;
            host.CutOff();
            var gap = await WaitGapAsync(client, at, a => a.Ready, "/readyz through the VIP during a partition");
            partitions.Add(gap);
            await Task.Delay(at + partition - DateTimeOffset.UtcNow is { Ticks: > 0 } left ? left : TimeSpan.Zero);
            host.Heal();
            await Task.Delay(TimeSpan.FromSeconds(3));
            var d = poller.DoubleHolderIntervals(at, DateTimeOffset.UtcNow);
            doubles += d;
            Console.Error.WriteLine($"failover: corral partition {trial}/{partitionTrials}: {host.Name} cut off, the API through the VIP back after {gap:0.000} s, {d} intervals with two holders");
            await lab.EnsureSteadyAsync();
        }
        var moves = (await lab.EventsAsync(0)).Count(e => e.Kind == "store.leader.moved");
        Console.Error.WriteLine($"failover: corral: the etcd leader was moved off the Corral leader's host {moves} times");
        var lease = (timing == "fast" ? Corral.Server.HaTiming.Fast : Corral.Server.HaTiming.Default).LeaseTtl.TotalSeconds;
        var figures = Figures($"corral servers, timing {timing} (TTL {lease.ToString(CultureInfo.InvariantCulture)} s)", kills, partitions, doubles);
        apiKills.Sort();
        return new CorralFailoverFigures(figures, Median(apiKills), apiKills[^1], moves);
    }

    /// <summary>Waits until the probe has had 200 answers only for the last second.</summary>
    private static async Task WaitReadyAsync(ApiAnswerProbe client)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < deadline)
        {
            var since = DateTimeOffset.UtcNow - TimeSpan.FromSeconds(1);
            var recent = client.Attempts.Where(a => a.At >= since).ToList();
            if (recent.Count >= 10 && recent.All(a => a.Ready))
            {
                return;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"corral: the API did not answer steadily through the VIP within {Patience.TotalSeconds} s");
    }

    /// <summary>Waits for the first success after <paramref name="at"/>; returns the gap from the last success before it.</summary>
    private static async Task<double> WaitGapAsync(ApiAnswerProbe client, DateTimeOffset at, Func<ApiProbeAttempt, bool> success, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < deadline)
        {
            if (client.GapAround(at, success) is { } gap)
            {
                return gap.TotalSeconds;
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"corral: no success of {what} within {Patience.TotalSeconds} s after the fault");
    }
}
