using System.Diagnostics;
using Corral.Testing;
using Corral.Testing.Lab;

namespace Corral.ClusterTests.Vip;

/// <summary>
/// <c>corral server run --vip</c> for real: a single server (SQLite store) in a lab host holds the VIP on its eth0, runs
/// its notify hooks with the documented environment and records their output in the event log; bad options are
/// refused before anything starts.
/// </summary>
public sealed class ServerRunVipTests : IDisposable
{
    private readonly TempDirectory _dir = new("corral-servervip");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task ServerRun_Leader_HoldsVipRunsLeaderHook_Sigterm_RemovesVipRunsFollowerHook()
    {
        using var lab = LabNetwork.Create(2);
        var h1 = lab[1];
        var data = _dir.Combine("server");
        var init = Corral("server", "init", "--data-dir", data, "--name", "s1");
        Assert.True(init.Code == 0, init.Output);
        // Written aside and renamed: the test polls for the file and must not read it half-written.
        var hook = Script("hook.sh", $"#!/bin/sh\nenv | grep '^CORRAL_' | sort > {_dir.Path}/$CORRAL_ROLE.tmp && mv {_dir.Path}/$CORRAL_ROLE.tmp {_dir.Path}/$CORRAL_ROLE.env\necho \"hook saw $CORRAL_ROLE\"\n");

        var server = h1.Start(CorralBinary.Dotnet,
            [CorralBinary.Dll, "server", "run", "--data-dir", data, "--vip", "10.77.0.100/24", "--vip-interface", "eth0",
             "--vip-on-leader", hook, "--vip-on-follower", hook, "--vip-hook-timeout", "5"],
            _dir.Combine("server.log"));
        using var probe = ArpProbe.Start(lab[2], VipLab.Vip);
        await Eventually.TrueAsync(() => probe.LastAnswer() is [var mac] && mac == h1.Mac, TimeSpan.FromSeconds(30), "h1's MAC to answer for the VIP\n" + ServerLog());
        Assert.True(h1.HasAddress(VipLab.Vip));
        // What an operator sees: the address's kernel lifetime, renewed with each lease renewal (default timing).
        await Eventually.TrueAsync(() => LifetimeShown(h1) == "1sec", TimeSpan.FromSeconds(5), "ip addr to show the VIP with valid_lft 1sec: " + LifetimeShown(h1));

        await Eventually.TrueAsync(() => File.Exists(_dir.Combine("leader.env")), TimeSpan.FromSeconds(10), "the leader hook to run");
        var env = await File.ReadAllTextAsync(_dir.Combine("leader.env"));
        Assert.Contains("CORRAL_ROLE=leader", env, StringComparison.Ordinal);
        Assert.Contains("CORRAL_VIP=10.77.0.100/24", env, StringComparison.Ordinal);
        Assert.Contains("CORRAL_VIP_ADDRESS=10.77.0.100", env, StringComparison.Ordinal);
        Assert.Contains("CORRAL_VIP_INTERFACE=eth0", env, StringComparison.Ordinal);
        Assert.Contains("CORRAL_SERVER=s1", env, StringComparison.Ordinal);
        Assert.Contains("CORRAL_REASON=elected leader (term ", env, StringComparison.Ordinal);
        // The hook's output is in the event log (read through the API from inside the host).
        await Eventually.TrueAsync(() => Events(h1, data).Contains("hook saw leader", StringComparison.Ordinal), TimeSpan.FromSeconds(10), "the hook's output in the event log");
        Assert.Contains("vip.added", Events(h1, data), StringComparison.Ordinal);

        File.Delete(_dir.Combine("follower.env"));
        Process.Start("/bin/kill", ["-TERM", server.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
        Assert.True(server.WaitForExit(TimeSpan.FromSeconds(20)), "the server did not stop on SIGTERM\n" + ServerLog());
        Assert.False(h1.HasAddress(VipLab.Vip), "the VIP is still on eth0 after the server stopped");
        var follower = await File.ReadAllTextAsync(_dir.Combine("follower.env"));
        Assert.Contains("CORRAL_ROLE=follower", follower, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServerRun_FastTiming_VipWithoutKernelLifetime_SaysOnceWhy()
    {
        using var lab = LabNetwork.Create(1);
        var h1 = lab[1];
        var data = _dir.Combine("server");
        var init = Corral("server", "init", "--data-dir", data, "--name", "s1", "--timing", "fast");
        Assert.True(init.Code == 0, init.Output);

        var server = h1.Start(CorralBinary.Dotnet,
            [CorralBinary.Dll, "server", "run", "--data-dir", data, "--vip", "10.77.0.100/24", "--vip-interface", "eth0", "--timing", "fast"],
            _dir.Combine("server.log"));
        await Eventually.TrueAsync(() => h1.HasAddress(VipLab.Vip), TimeSpan.FromSeconds(30), "h1 to hold the VIP\n" + ServerLog());
        // Lease 1 s - margin 250 ms leaves no room for a whole-second lifetime: the address is permanent, and the log
        // says so once, at start.
        Assert.Equal("forever", LifetimeShown(h1));
        await Task.Delay(1500);
        Assert.Equal("forever", LifetimeShown(h1));
        Process.Start("/bin/kill", ["-TERM", server.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
        Assert.True(server.WaitForExit(TimeSpan.FromSeconds(20)), "the server did not stop on SIGTERM\n" + ServerLog());
        Assert.False(h1.HasAddress(VipLab.Vip), "the VIP is still on eth0 after the server stopped");
        var said = ServerLog().Split("is added without a kernel lifetime").Length - 1;
        Assert.True(said == 1, $"the log says {said} times that the VIP has no kernel lifetime:\n{ServerLog()}");
        Assert.Contains("lease TTL 1s minus step-down margin 250ms is less than 1s300ms", ServerLog(), StringComparison.Ordinal);
        Assert.Contains("The default timing (--timing default: lease 2 s, margin 500 ms) protects against that", ServerLog(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--vip 10.0.0.300/24 --vip-interface lo", "corral server run: --vip '10.0.0.300/24' is not an IPv4 address")]
    [InlineData("--vip 10.0.0.100/40 --vip-interface lo", "the prefix length after '/' must be a number from 1 to 32")]
    [InlineData("--vip 10.0.0.100/24", "--vip needs --vip-interface")]
    [InlineData("--vip 10.0.0.100/24 --vip-interface nosuch0", "--vip-interface: no network interface named 'nosuch0'")]
    [InlineData("--vip-interface lo", "--vip-interface and the --vip-on-* hooks need --vip")]
    [InlineData("--vip 10.0.0.100/24 --vip-interface lo --vip-on-leader /nonexistent/hook", "--vip-on-leader: hook '/nonexistent/hook' does not exist")]
    [InlineData("--vip 10.0.0.100/24 --vip-interface lo --vip-hook-timeout 0", "--vip-hook-timeout 0 must be from 0.1 to 300 seconds")]
    public void ServerRun_BadVipOptions_Exit2WithTheReason_NothingStarts(string options, string message)
    {
        var data = _dir.Combine("server");
        Assert.Equal(0, Corral("server", "init", "--data-dir", data, "--name", "s1").Code);
        var before = Directory.GetFiles(data, "*", SearchOption.AllDirectories).Select(f => (f, File.GetLastWriteTimeUtc(f))).ToList();

        var run = Corral(["server", "run", "--data-dir", data, "--port", FreePorts.Next().ToString(System.Globalization.CultureInfo.InvariantCulture), .. options.Split(' ')]);

        Assert.True(run.Code == 2, $"exit {run.Code}: {run.Output}");
        Assert.Contains(message, run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("listening", run.Output, StringComparison.Ordinal);
        Assert.Equal(before, Directory.GetFiles(data, "*", SearchOption.AllDirectories).Select(f => (f, File.GetLastWriteTimeUtc(f))).ToList());
    }

    /// <summary>The VIP's <c>valid_lft</c> as <c>ip addr</c> shows it on the host's eth0 (<c>1sec</c>, <c>forever</c>), or "" when it is not there.</summary>
    private static string LifetimeShown(LabHost host) =>
        System.Text.RegularExpressions.Regex.Match(Shell.Ip("-n", host.Namespace, "-4", "addr", "show", "dev", "eth0"), @"inet 10\.77\.0\.100/24[^\n]*\n\s+valid_lft (\S+)").Groups[1].Value;

    private (int Code, string Output) Corral(params string[] args) => Shell.Run(CorralBinary.Dotnet, [CorralBinary.Dll, .. args], TimeSpan.FromSeconds(60));

    private string Events(LabHost host, string data) =>
        host.Exec("/usr/bin/env", "CORRAL_CONFIG=" + Path.Combine(data, "admin.json"), CorralBinary.Dotnet, CorralBinary.Dll, "events").Output;

    private string ServerLog() => File.Exists(_dir.Combine("server.log")) ? File.ReadAllText(_dir.Combine("server.log")) : "";

    private string Script(string name, string text)
    {
        var path = _dir.Combine(name);
        File.WriteAllText(path, text);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }
}
