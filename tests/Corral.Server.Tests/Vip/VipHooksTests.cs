using System.Net;
using Corral.Server.Vip;
using Corral.Testing;

namespace Corral.Server.Tests.Vip;

/// <summary>Real hook scripts run as child processes.</summary>
public sealed class VipHooksTests : IDisposable
{
    private readonly TempDirectory _dir = new("corral-viphooks");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task RunAsync_PassesRoleVipAndReasonInTheEnvironment_CapturesOutput()
    {
        var hook = Script("hook.sh", "#!/bin/sh\necho \"role=$CORRAL_ROLE vip=$CORRAL_VIP address=$CORRAL_VIP_ADDRESS if=$CORRAL_VIP_INTERFACE server=$CORRAL_SERVER\"\necho \"reason=$CORRAL_REASON\" >&2\nexit 3\n");

        var result = await VipHooks.RunAsync(hook, "leader", "elected leader (term 7)", "s1", Options(), CancellationToken.None);

        Assert.Equal(3, result.ExitCode);
        Assert.False(result.TimedOut);
        Assert.Contains("role=leader vip=10.0.0.100/24 address=10.0.0.100 if=lo server=s1", result.Output, StringComparison.Ordinal);
        Assert.Contains("reason=elected leader (term 7)", result.Output, StringComparison.Ordinal);
        Assert.StartsWith($"leader hook {hook} exited 3 in ", result.Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_HookOutlivesTimeout_IsKilledWithItsChildren()
    {
        var pidFile = _dir.Combine("child.pid");
        var hook = Script("slow.sh", $"#!/bin/sh\necho started\nsleep 600 &\necho $! > {pidFile}\nwait\n");

        var result = await VipHooks.RunAsync(hook, "fault", "store unreachable", "s1", Options() with { HookTimeout = TimeSpan.FromMilliseconds(500) }, CancellationToken.None);

        Assert.True(result.TimedOut);
        Assert.Null(result.ExitCode);
        Assert.Contains("started", result.Output, StringComparison.Ordinal);
        Assert.Contains("was killed after the timeout", result.Describe(), StringComparison.Ordinal);
        var child = int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        await Eventually.TrueAsync(() => !ProcessReaper.IsAlive(child), TimeSpan.FromSeconds(5), "the hook's child to be killed");
    }

    [Fact]
    public async Task RunAsync_LongOutput_IsCut()
    {
        var hook = Script("loud.sh", "#!/bin/sh\ni=0\nwhile [ $i -lt 2000 ]; do echo 0123456789; i=$((i+1)); done\n");

        var result = await VipHooks.RunAsync(hook, "follower", "started", "s1", Options(), CancellationToken.None);

        Assert.Equal(0, result.ExitCode);
        Assert.True(result.Output.Length <= VipHooks.MaxOutput);
    }

    private static VipOptions Options() => new() { Address = IPAddress.Parse("10.0.0.100"), PrefixLength = 24, Interface = "lo" };

    private string Script(string name, string text)
    {
        var path = _dir.Combine(name);
        File.WriteAllText(path, text);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }
}
