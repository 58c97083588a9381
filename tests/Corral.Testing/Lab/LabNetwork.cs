using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace Corral.Testing.Lab;

/// <summary>
/// Several "hosts" on one machine (see FIELD-NOTES "Several hosts on one machine"): a switch namespace holding a bridge
/// (STP off, forward_delay 0, mcast_snooping 0, bridge-nf-call-* 0) and one namespace per host with a veth <c>eth0</c>
/// whose peer <c>vI</c> is a bridge port, address <c>10.77.0.I/24</c>, lo up, IPv6 off, arp_announce=2.
/// </summary>
/// <remarks>
/// Names start with <c>clab{PID}x{N}-</c>: unique per process and per lab, so parallel runs never collide, and a lab
/// whose process is gone is recognised as stale and removed by <see cref="CleanStale"/> (called by <see cref="Create"/>).
/// Disposing kills every process of every host (SIGKILL, bounded rounds) and deletes every namespace, which removes the
/// bridge and the veths; it runs also when a test fails. Needs root.
/// </remarks>
public sealed partial class LabNetwork : IDisposable
{
    private static int s_next;
    private static int s_subreaper;
    private readonly List<LabHost> _hosts = [];
    private readonly ProcessReaper _reaper = new();
    private bool _disposed;

    private LabNetwork(string prefix)
    {
        Prefix = prefix;
        Switch = prefix + "sw";
    }

    /// <summary>This lab's name prefix, e.g. <c>clab1234x1-</c>.</summary>
    public string Prefix { get; }

    /// <summary>The switch namespace (holds bridge <c>br0</c>).</summary>
    public string Switch { get; }

    /// <summary>The hosts, in creation order.</summary>
    public IReadOnlyList<LabHost> Hosts => _hosts;

    /// <summary>Tracks every process started in any host; killed on dispose.</summary>
    internal ProcessReaper Reaper => _reaper;

    /// <summary>Creates a lab with <paramref name="hosts"/> hosts named h1..hN (10.77.0.1..N). Removes stale labs first.</summary>
    public static LabNetwork Create(int hosts)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(hosts, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(hosts, 50);
        if (Environment.UserName != "root")
        {
            throw new InvalidOperationException("the multi-host lab needs root (network namespaces, bridges, veths)");
        }
        if (Interlocked.Exchange(ref s_subreaper, 1) == 0)
        {
            Netns.BecomeSubreaper();
        }
        CleanStale();
        var lab = new LabNetwork(string.Create(CultureInfo.InvariantCulture, $"clab{Environment.ProcessId}x{Interlocked.Increment(ref s_next)}-"));
        try
        {
            lab.CreateSwitch();
            for (var i = 1; i <= hosts; i++)
            {
                lab.AddHost(i);
            }
            return lab;
        }
        catch
        {
            lab.Dispose();
            throw;
        }
    }

    /// <summary>Host <c>hI</c> (1-based).</summary>
    public LabHost this[int index] => _hosts[index - 1];

    /// <summary>The host whose address is <paramref name="address"/>, or null.</summary>
    public LabHost? HostByAddress(IPAddress address) => _hosts.FirstOrDefault(h => h.Address.Equals(address));

    /// <summary>The host whose eth0 has <paramref name="mac"/>, or null.</summary>
    public LabHost? HostByMac(string mac) => _hosts.FirstOrDefault(h => h.Mac == mac);

    /// <summary>
    /// Deletes lab namespaces (<c>clab{PID}x{N}-*</c>) whose owning process no longer runs, killing their processes first.
    /// </summary>
    public static void CleanStale()
    {
        var (code, output) = Shell.Run("/usr/sbin/ip", ["netns", "list"]);
        if (code != 0)
        {
            return;
        }
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var name = line.Split(' ')[0];
            var match = LabName().Match(name);
            if (match.Success && !ProcessReaper.IsAlive(int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture)))
            {
                KillNamespace(name);
                Shell.Run("/usr/sbin/ip", ["netns", "del", name]);
            }
        }
    }

    /// <summary>SIGKILLs every process in namespace <paramref name="name"/>, in bounded rounds, until none is left.</summary>
    internal static void KillNamespace(string name, ISet<int>? ownChildren = null)
    {
        for (var round = 0; round < 50; round++)
        {
            var (code, output) = Shell.Run("/usr/sbin/ip", ["netns", "pids", name]);
            var pids = code == 0
                ? output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToList()
                : [];
            if (pids.Count == 0)
            {
                return;
            }
            foreach (var pid in pids)
            {
                ProcessReaper.Kill(pid);
            }
            Thread.Sleep(20);
            foreach (var pid in pids)
            {
                // Orphans re-parented to this subreaper are reaped here; processes started through Process are left to it.
                if (ownChildren is null || !ownChildren.Contains(pid))
                {
                    Netns.TryReap(pid);
                }
            }
        }
        throw new InvalidOperationException($"processes in network namespace {name} survived 50 rounds of SIGKILL");
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _reaper.Dispose();
        foreach (var host in _hosts)
        {
            KillNamespace(host.Namespace, host.StartedPids);
        }
        foreach (var host in _hosts)
        {
            Shell.Run("/usr/sbin/ip", ["netns", "del", host.Namespace]);
        }
        Shell.Run("/usr/sbin/ip", ["netns", "del", Switch]);
    }

    private void CreateSwitch()
    {
        Shell.Ip("netns", "add", Switch);
        Sysctl(Switch, "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1",
            "net.bridge.bridge-nf-call-iptables=0", "net.bridge.bridge-nf-call-ip6tables=0", "net.bridge.bridge-nf-call-arptables=0");
        Shell.Ip("-n", Switch, "link", "add", "br0", "type", "bridge", "stp_state", "0", "forward_delay", "0", "mcast_snooping", "0");
        Shell.Ip("-n", Switch, "link", "set", "br0", "up");
        Shell.Ip("-n", Switch, "link", "set", "lo", "up");
    }

    private void AddHost(int index)
    {
        var id = index.ToString(CultureInfo.InvariantCulture);
        var ns = Prefix + "h" + id;
        var port = "v" + id;
        Shell.Ip("netns", "add", ns);
        var host = new LabHost(this, "h" + id, ns, port, IPAddress.Parse("10.77.0." + id));
        _hosts.Add(host);
        Sysctl(ns, "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1",
            "net.ipv4.conf.all.arp_announce=2", "net.ipv4.conf.default.arp_announce=2");
        Shell.Ip("-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", port, "netns", Switch);
        Shell.Ip("-n", Switch, "link", "set", port, "master", "br0");
        Shell.Ip("-n", Switch, "link", "set", port, "up");
        Shell.Ip("-n", ns, "addr", "add", host.Address + "/24", "dev", "eth0");
        Shell.Ip("-n", ns, "link", "set", "eth0", "up");
        Shell.Ip("-n", ns, "link", "set", "lo", "up");
        Sysctl(ns, "net.ipv4.conf.eth0.arp_announce=2");
        host.Mac = Shell.Ip("-n", ns, "-br", "link", "show", "eth0").Split(' ', StringSplitOptions.RemoveEmptyEntries)[2];
    }

    /// <summary>Sets sysctls inside a namespace; keys that do not exist there (br_netfilter not loaded) are ignored.</summary>
    private static void Sysctl(string ns, params string[] settings)
    {
        var (code, output) = Shell.Run("/usr/sbin/ip", ["netns", "exec", ns, "/usr/sbin/sysctl", "-q", "-e", "-w", .. settings]);
        if (code != 0)
        {
            throw new InvalidOperationException($"sysctl in {ns} failed: {output.Trim()}");
        }
    }

    [GeneratedRegex("^clab([0-9]+)x[0-9]+-")]
    private static partial Regex LabName();
}
