using Corral.Testing.Lab;

namespace Corral.Bench;

internal static partial class FailoverBench
{
    /// <summary>
    /// (b) Corral: h1..h3 each run an etcd member and corral-viphost (HaTiming profile <paramref name="timing"/>, its
    /// lease TTL replaced by <paramref name="ttl"/> when given); h4 is the client.
    /// </summary>
    private static async Task<FailoverFigures> CorralAsync(int trials, int partitionTrials, TimeSpan partition, string timing, int? ttl)
    {
        using var start = new CancellationTokenSource(Patience);
        await using var lab = await VipLab.StartAsync(3, start.Token, ttl is { } s ? ["--ttl", s.ToString(System.Globalization.CultureInfo.InvariantCulture)] : [], timing);
        lab.StartVipHosts();
        using var client = TcpAnswerProbe.Start(lab.Client, Target);
        using var poller = VipHolderPoller.Start(lab.Servers, VipLab.Vip);
        var kills = new List<double>();
        var partitions = new List<double>();
        var doubles = 0;

        for (var trial = 1; trial <= trials; trial++)
        {
            var holder = await WaitStableAsync(client, "corral");
            var host = lab.Servers.Single(h => h.Name == holder);
            var at = DateTimeOffset.UtcNow;
            host.KillAll();
            var gap = await WaitTakeoverAsync(client, at, holder, "corral", lab.Network);
            kills.Add(gap);
            doubles += poller.DoubleHolderIntervals(at, DateTimeOffset.UtcNow, new HashSet<LabHost> { host });
            Console.Error.WriteLine($"failover: corral kill {trial}/{trials}: {holder} killed, answers resumed after {gap:0.000} s");
            // The host comes back: its etcd member rejoins, its VIP host removes the address its dead run left.
            var index = lab.Servers.ToList().IndexOf(host);
            lab.Etcd.Launch(index);
            lab.StartVipHost(host);
            await lab.Etcd.WaitHealthyAsync(index, Patience, CancellationToken.None);
            await lab.WaitSingleHolderAsync(Patience);
        }
        for (var trial = 1; trial <= partitionTrials; trial++)
        {
            var holder = await WaitStableAsync(client, "corral");
            var host = lab.Servers.Single(h => h.Name == holder);
            var at = DateTimeOffset.UtcNow;
            host.CutOff();
            var gap = await WaitTakeoverAsync(client, at, holder, "corral", lab.Network);
            partitions.Add(gap);
            if (gap > partition.TotalSeconds)
            {
                Console.Error.WriteLine($"failover: corral partition {trial}: nobody took over during the partition; the VIP hosts' logs:\n{lab.AllLogs()}");
            }
            await Task.Delay(at + partition - DateTimeOffset.UtcNow is { Ticks: > 0 } left ? left : TimeSpan.Zero);
            host.Heal();
            await Task.Delay(TimeSpan.FromSeconds(3));
            var d = poller.DoubleHolderIntervals(at, DateTimeOffset.UtcNow);
            doubles += d;
            Console.Error.WriteLine($"failover: corral partition {trial}/{partitionTrials}: {holder} cut off, takeover after {gap:0.000} s, {d} intervals with two holders");
            await lab.Etcd.WaitHealthyAsync(lab.Servers.ToList().IndexOf(host), Patience, CancellationToken.None);
        }
        // The VIP hosts' logs go with the lab: count the etcd leader placement's moves now.
        var moves = lab.Servers.Sum(h => lab.Log(h).Split('\n').Count(l => l.Contains("EtcdLeaderPlacement[4510]", StringComparison.Ordinal)));
        Console.Error.WriteLine($"failover: corral: the etcd leader was moved off the Corral leader's host {moves} times");
        var lease = ttl ?? (timing == "fast" ? Corral.Server.HaTiming.Fast : Corral.Server.HaTiming.Default).LeaseTtl.TotalSeconds;
        return Figures($"corral VIP, timing {timing} (TTL {lease} s)", kills, partitions, doubles);
    }
}
