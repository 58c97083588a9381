using System.Globalization;
using Corral.Testing;
using Corral.Testing.Lab;

namespace Corral.Bench;

internal static partial class FailoverBench
{
    /// <summary>(a) keepalived 2.2 on h1 (priority 150) and h2 (100), VRRPv2, advert_int 1; h3 is the client.</summary>
    private static async Task<FailoverFigures> KeepalivedAsync(int trials, int partitionTrials, TimeSpan partition)
    {
        using var dir = new TempDirectory("corral-bench-keepalived");
        using var lab = LabNetwork.Create(3);
        LabHost[] servers = [lab[1], lab[2]];
        using var client = TcpAnswerProbe.Start(lab[3], Target);
        using var poller = VipHolderPoller.Start(servers, VipLab.Vip);
        var kills = new List<double>();
        var partitions = new List<double>();
        var doubles = 0;

        void Restart()
        {
            foreach (var host in servers)
            {
                host.KillAll();
                Shell.Run("/usr/sbin/ip", ["-n", host.Namespace, "addr", "del", VipLab.Vip + "/24", "dev", "eth0"]);
                // A killed keepalived leaves its pid files; a new one refuses to start if their PIDs were reused.
                File.Delete(dir.Combine(host.Name + ".pid"));
                File.Delete(dir.Combine(host.Name + ".vrrp.pid"));
            }
            foreach (var (host, priority) in new[] { (lab[1], 150), (lab[2], 100) })
            {
                StartAnswerServer(host, dir);
                var conf = dir.Combine(host.Name + ".conf");
                File.WriteAllText(conf, $$"""
                    global_defs {
                      router_id {{host.Name}}
                      vrrp_version 2
                      enable_script_security
                    }
                    vrrp_instance corral_bench {
                      state BACKUP
                      interface eth0
                      virtual_router_id 77
                      priority {{priority}}
                      advert_int 1
                      virtual_ipaddress {
                        {{VipLab.Vip}}/24 dev eth0
                      }
                    }
                    """);
                host.Start("/usr/sbin/keepalived",
                    ["--dont-fork", "--log-console", "--vrrp", "--use-file", conf,
                     "--pid", dir.Combine(host.Name + ".pid"), "--vrrp_pid", dir.Combine(host.Name + ".vrrp.pid")],
                    dir.Combine(host.Name + ".keepalived.log"));
            }
        }

        for (var trial = 1; trial <= trials; trial++)
        {
            Restart();
            var holder = await WaitStableAsync(client, "keepalived");
            var host = servers.Single(h => h.Name == holder);
            var at = DateTimeOffset.UtcNow;
            host.KillAll();
            var gap = await WaitTakeoverAsync(client, at, holder, "keepalived", lab);
            kills.Add(gap);
            doubles += poller.DoubleHolderIntervals(at, DateTimeOffset.UtcNow, new HashSet<LabHost> { host });
            Console.Error.WriteLine($"failover: keepalived kill {trial}/{trials}: {holder} killed, answers resumed after {gap:0.000} s");
        }
        for (var trial = 1; trial <= partitionTrials; trial++)
        {
            Restart();
            var holder = await WaitStableAsync(client, "keepalived");
            var host = servers.Single(h => h.Name == holder);
            var at = DateTimeOffset.UtcNow;
            host.CutOff();
            var gap = await WaitTakeoverAsync(client, at, holder, "keepalived", lab);
            partitions.Add(gap);
            await Task.Delay(at + partition - DateTimeOffset.UtcNow is { Ticks: > 0 } left ? left : TimeSpan.Zero);
            host.Heal();
            await Task.Delay(TimeSpan.FromSeconds(3));
            var d = poller.DoubleHolderIntervals(at, DateTimeOffset.UtcNow);
            doubles += d;
            Console.Error.WriteLine($"failover: keepalived partition {trial}/{partitionTrials}: {holder} cut off, takeover after {gap:0.000} s, {d} intervals with two holders");
        }
        return Figures("keepalived 2.2 VRRPv2 advert_int 1", kills, partitions, doubles);
    }

    private static void StartAnswerServer(LabHost host, TempDirectory dir) =>
        host.Start(CorralBinary.Dotnet, [VipLab.VipHostDll, "answer", "--port", VipLab.AnswerPort.ToString(CultureInfo.InvariantCulture), "--name", host.Name], dir.Combine(host.Name + ".answer.log"));
}
