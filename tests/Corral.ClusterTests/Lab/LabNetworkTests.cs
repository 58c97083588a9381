using System.Net;
using Corral.Testing;
using Corral.Testing.Lab;

namespace Corral.ClusterTests.Lab;

/// <summary>The lab harness itself: what it builds, the operations on hosts, and that nothing outlives it.</summary>
public sealed class LabNetworkTests
{
    [Fact]
    public void Create_BuildsSwitchAndHosts_DisposeRemovesEverything()
    {
        string prefix;
        using (var lab = LabNetwork.Create(2))
        {
            prefix = lab.Prefix;
            var bridge = Shell.Ip("-n", lab.Switch, "-d", "link", "show", "br0");
            Assert.Contains("stp_state 0", bridge, StringComparison.Ordinal);
            Assert.Contains("forward_delay 0", bridge, StringComparison.Ordinal);
            Assert.Contains("mcast_snooping 0", bridge, StringComparison.Ordinal);
            Assert.Contains("master br0", Shell.Ip("-n", lab.Switch, "link", "show", "v1"), StringComparison.Ordinal);
            var h1 = lab[1];
            Assert.Equal(IPAddress.Parse("10.77.0.1"), h1.Address);
            Assert.True(h1.HasAddress(h1.Address));
            Assert.Equal("net.ipv4.conf.eth0.arp_announce = 2", h1.Exec("/usr/sbin/sysctl", "net.ipv4.conf.eth0.arp_announce").Output.Trim());
            Assert.Equal("net.ipv6.conf.all.disable_ipv6 = 1", h1.Exec("/usr/sbin/sysctl", "net.ipv6.conf.all.disable_ipv6").Output.Trim());
            Assert.Contains("state UNKNOWN", Shell.Ip("-n", h1.Namespace, "link", "show", "lo"), StringComparison.Ordinal);
            Assert.Matches("^([0-9a-f]{2}:){5}[0-9a-f]{2}$", h1.Mac);
            Assert.NotEqual(lab[1].Mac, lab[2].Mac);
            lab[1].Start("/usr/bin/sleep", ["600"], Path.Combine(Path.GetTempPath(), prefix + "sleep.log"));
            // ip netns exec joins the namespace a moment after the process starts.
            WaitFor(() => lab[1].Pids().Count == 1, "the process to run in h1");
        }
        var left = Shell.Ip("netns", "list");
        Assert.DoesNotContain(prefix, left, StringComparison.Ordinal);
        File.Delete(Path.Combine(Path.GetTempPath(), prefix + "sleep.log"));
    }

    [Fact]
    public void Probe_SeesTheOwnerOfAnAddress_CutOffSilencesIt_HealRestores()
    {
        using var lab = LabNetwork.Create(2);
        using var probe = ArpProbe.Start(lab[2], lab[1].Address);
        WaitFor(() => probe.LastAnswer() is [var mac] && mac == lab[1].Mac, "the probe to see h1's MAC");

        lab[1].CutOff();
        var cut = probe.Count;
        Thread.Sleep(300);
        var during = probe.Since(cut + 1);
        Assert.True(during.Count >= 5, $"only {during.Count} probe intervals in 300 ms");
        Assert.All(during, i => Assert.Empty(i.Macs));
        Assert.Contains("state UP", Shell.Ip("-n", lab[1].Namespace, "link", "show", "eth0"), StringComparison.Ordinal);

        lab[1].Heal();
        WaitFor(() => probe.LastAnswer() is [var mac] && mac == lab[1].Mac, "h1 to answer again after healing");
    }

    [Fact]
    public void KillAll_KillsEveryProcessOfTheHost_IncludingOrphans_OtherHostsKeepTheirs()
    {
        using var dir = new TempDirectory("corral-labkill");
        using var lab = LabNetwork.Create(2);
        // The shell leaves a background child: killed first, the shell's child is re-parented to this subreaper.
        lab[1].Start("/bin/sh", ["-c", "sleep 600 & sleep 600 & wait"], dir.Combine("h1.log"));
        var other = lab[2].Start("/usr/bin/sleep", ["600"], dir.Combine("h2.log"));
        WaitFor(() => lab[1].Pids().Count == 3, "three processes in h1");

        lab[1].KillAll();

        Assert.Empty(lab[1].Pids());
        Assert.False(other.HasExited);
        Assert.Single(lab[2].Pids());
    }

    [Fact]
    public void CleanStale_RemovesNamespacesOfAProcessThatIsGone()
    {
        using var exited = System.Diagnostics.Process.Start("/bin/true")!;
        exited.WaitForExit();
        var stale = $"clab{exited.Id}x1-h1";
        Shell.Ip("netns", "add", stale);
        try
        {
            LabNetwork.CleanStale();
            Assert.DoesNotContain(stale, Shell.Ip("netns", "list"), StringComparison.Ordinal);
        }
        finally
        {
            Shell.Run("/usr/sbin/ip", ["netns", "del", stale]);
        }
    }

    private static void WaitFor(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for " + what);
            Thread.Sleep(20);
        }
    }
}
