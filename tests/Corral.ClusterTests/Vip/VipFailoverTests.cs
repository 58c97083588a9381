using Xunit.Abstractions;
using Corral.Testing.Lab;

namespace Corral.ClusterTests.Vip;

/// <summary>
/// Three lab hosts each run an etcd member and the real leader election + VIP manager (corral-viphost); a fourth host
/// probes the VIP with ARP every 20 ms. Leadership is real: decided by the etcd election, nothing is faked.
/// </summary>
public sealed class VipFailoverTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Takeover = TimeSpan.FromSeconds(60);
    private VipLab _lab = null!;

    public async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        _lab = await VipLab.StartAsync(3, timeout.Token);
    }

    public async Task DisposeAsync() => await _lab.DisposeAsync();

    [Fact]
    public async Task KillLeaderHost_ItsKernelDropsTheVipBeforeAnotherHostTakesIt_ClientsMoveToItsMac_RestartedOldLeaderCleansAStaleVip()
    {
        _lab.StartVipHosts();
        var leader = await _lab.WaitSingleHolderAsync(Takeover);
        using var probe = ArpProbe.Start(_lab.Client, VipLab.Vip);
        await WaitAsync(() => probe.LastAnswer() is [var mac] && mac == leader.Mac, "the probe to see the leader's MAC answer for the VIP");
        // The client talks to the VIP, so its neighbour table holds the leader's MAC.
        Assert.Equal(leader.Name, Answer());
        Assert.Contains(leader.Mac, Neighbour(), StringComparison.Ordinal);

        leader.KillAll();
        var killedAt = DateTimeOffset.UtcNow;

        // The killed host's kernel keeps the address (its processes died, not its network stack) only until the
        // address's kernel lifetime, which only the dead server renewed, runs out: before the lease can expire and
        // another host add it.
        await WaitAsync(() => !leader.HasAddress(VipLab.Vip), "the killed host's kernel to drop the VIP by itself", TimeSpan.FromSeconds(10));
        var dropped = DateTimeOffset.UtcNow - killedAt;
        Assert.True(_lab.Holders().Count == 0, $"{string.Join(", ", _lab.Holders())} added the VIP before the killed host's kernel dropped it\n{_lab.AllLogs()}");
        var next = await WaitNewHolderAsync(leader);
        output.WriteLine($"killed {leader.Name}: its kernel dropped the VIP {dropped.TotalMilliseconds:0} ms later, {next.Name} added it {(DateTimeOffset.UtcNow - killedAt).TotalMilliseconds:0} ms after the kill");
        // Gratuitous ARP from the new holder moves the client off the dead host's MAC at once.
        await WaitAsync(() => probe.LastAnswer().Contains(next.Mac), "the probe to see the new holder's MAC");
        await WaitAsync(() => Neighbour().Contains(next.Mac, StringComparison.Ordinal), "the client's neighbour entry for the VIP to move to the new holder (gratuitous ARP)", TimeSpan.FromSeconds(10));
        Assert.Equal(next.Name, Answer());

        // An address without a lifetime (--timing fast) stays after a crash: put one back as such a run would have left
        // it. The old leader comes back, finds it on eth0 and removes it before campaigning.
        var (code, added) = leader.Exec("/usr/sbin/ip", "addr", "add", VipLab.Vip + "/24", "dev", "eth0");
        Assert.True(code == 0, added);
        _lab.StartVipHost(leader);
        await WaitAsync(() => !leader.HasAddress(VipLab.Vip), "the restarted old leader to remove its stale VIP", Takeover);
        // Skip the interval in progress: it may have started before the address was removed.
        var settled = probe.Count + 1;
        await Task.Delay(500);
        Assert.All(probe.Since(settled), i => Assert.Equal([next.Mac], i.Macs));
        Assert.Equal([next], _lab.Holders());
        Assert.Contains("Removed VIP 10.77.0.100/24 left on eth0 by an earlier run", _lab.Log(leader), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CutLeaderOff_ItDropsTheVipBeforeAnotherTakesIt_NeverTwoMacsInOneInterval_HealLeavesOneHolder()
    {
        _lab.StartVipHosts();
        var leader = await _lab.WaitSingleHolderAsync(Takeover);
        using var probe = ArpProbe.Start(_lab.Client, VipLab.Vip);
        await WaitAsync(() => probe.LastAnswer() is [var mac] && mac == leader.Mac, "the probe to see the leader's MAC answer for the VIP");
        var start = probe.Count;

        var cutAt = DateTimeOffset.UtcNow;
        leader.CutOff();
        var next = await WaitNewHolderAsync(leader);
        // Heal at once: had the old leader kept the VIP, both would answer the probe from now on.
        leader.Heal();
        await Task.Delay(TimeSpan.FromSeconds(3));
        // Read the logs only now: the console logger writes its lines a moment after they are logged.
        var dropped = _lab.VipChanges(leader).LastOrDefault();
        var added = _lab.VipChanges(next).LastOrDefault();

        output.WriteLine($"cut {leader.Name} off at {cutAt:O}; it removed the VIP {(dropped.At - cutAt).TotalMilliseconds:0} ms after the cut, "
            + $"{(added.At - dropped.At).TotalMilliseconds:0} ms before {next.Name} added it\n{_lab.AllLogs()}");
        var intervals = probe.Since(start);
        var doubles = intervals.Where(i => i.Macs.Count > 1).ToList();
        Assert.True(doubles.Count == 0, $"{doubles.Count} probe intervals saw two MACs, first at {doubles.FirstOrDefault()?.Start:O}: {string.Join(", ", doubles.FirstOrDefault()?.Macs ?? [])}\n{_lab.AllLogs()}");
        Assert.Contains(intervals, i => i.Macs.SequenceEqual([next.Mac]));
        Assert.False(dropped.Added, $"the old leader's last VIP change should be a removal\n{_lab.Log(leader)}");
        Assert.True(added.Added, $"the new leader's last VIP change should be an addition\n{_lab.Log(next)}");
        Assert.True(dropped.At < added.At, $"the old leader removed the VIP at {dropped.At:O}, after the new one added it at {added.At:O}\n{_lab.AllLogs()}");
        Assert.Equal([next], _lab.Holders());
        var tail = probe.Since(probe.Count - 25);
        Assert.All(tail, i => Assert.Equal([next.Mac], i.Macs));
    }

    [Fact]
    public async Task CutLeaderOffAsItTakesTheVip_ItsStoreWritesHang_ItStillDropsTheVipBeforeAnotherTakesIt()
    {
        using var probe = ArpProbe.Start(_lab.Client, VipLab.Vip);
        _lab.StartVipHosts();
        // Cut the first holder off the moment its kernel has the VIP: its term has just begun, and what it does next
        // (the rest of its gratuitous ARP burst, the vip.added event written into the store) meets a store it can no
        // longer reach, and hangs there while its term runs out.
        var deadline = DateTime.UtcNow + Takeover;
        LabHost? leader;
        while ((leader = _lab.Holders().FirstOrDefault()) is null)
        {
            Assert.True(DateTime.UtcNow < deadline, $"no host took the VIP within {Takeover.TotalSeconds} s\n{_lab.AllLogs()}");
        }
        var cutAt = DateTimeOffset.UtcNow;
        leader.CutOff();
        var next = await WaitNewHolderAsync(leader);
        leader.Heal();
        await Task.Delay(TimeSpan.FromSeconds(3));

        var log = _lab.Log(leader);
        var dropped = _lab.VipChanges(leader).FirstOrDefault(c => !c.Added && c.At >= cutAt);
        var added = _lab.VipChanges(next).FirstOrDefault(c => c.Added && c.At >= cutAt);
        output.WriteLine($"cut {leader.Name} off at {cutAt:O}; it removed the VIP {(dropped.At - cutAt).TotalMilliseconds:0} ms after the cut, "
            + $"{(added.At - dropped.At).TotalMilliseconds:0} ms before {next.Name} added it; its vip.added event write "
            + (log.Contains("Could not record event vip.added", StringComparison.Ordinal) ? "was cut short by the term's end" : "went through before the cut"));
        Assert.True(dropped != default, $"{leader.Name} never removed the VIP after the cut\n{_lab.AllLogs()}");
        Assert.True(dropped.At < added.At, $"the old leader removed the VIP at {dropped.At:O}, after the new one added it at {added.At:O}\n{_lab.AllLogs()}");
        var doubles = probe.Since(0).Where(i => i.Macs.Count > 1).ToList();
        Assert.True(doubles.Count == 0, $"{doubles.Count} probe intervals saw two MACs, first at {doubles.FirstOrDefault()?.Start:O}: {string.Join(", ", doubles.FirstOrDefault()?.Macs ?? [])}\n{_lab.AllLogs()}");
        Assert.Equal([next], _lab.Holders());
    }

    private async Task<LabHost> WaitNewHolderAsync(LabHost old)
    {
        var deadline = DateTime.UtcNow + Takeover;
        while (true)
        {
            var other = _lab.Servers.FirstOrDefault(h => h != old && h.HasAddress(VipLab.Vip));
            if (other is not null)
            {
                return other;
            }
            Assert.True(DateTime.UtcNow < deadline, $"no other host took the VIP within {Takeover.TotalSeconds} s\n{_lab.AllLogs()}");
            await Task.Delay(20);
        }
    }

    /// <summary>Connects from the client host to the VIP's answer port and returns the name the server answered with.</summary>
    private string Answer()
    {
        var (code, output) = _lab.Client.Exec("/usr/bin/timeout", "2", "/bin/bash", "-c", $"exec 3<>/dev/tcp/{VipLab.Vip}/{VipLab.AnswerPort}; head -n1 <&3");
        Assert.True(code == 0, $"no answer from the VIP ({code}): {output}");
        return output.Trim();
    }

    private string Neighbour() => Shell.Ip("-n", _lab.Client.Namespace, "neigh", "show", VipLab.Vip.ToString());

    private async Task WaitAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? Takeover);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}\n{_lab.AllLogs()}");
            await Task.Delay(20);
        }
    }
}
