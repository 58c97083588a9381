using Corral.Agent.Supervisor;
using Corral.Testing;

namespace Corral.Agent.Tests.Supervisor;

public sealed class SupervisorInputTests
{
    public static TheoryData<string, string> BadInputs => new()
    {
        { "command-not-found", "command not found: no-such-command-xyz" },
        { "not-executable", "command not executable:" },
        { "workdir-missing", "working directory does not exist:" },
        { "unknown-user", "unknown user: no-such-user-xyz" },
        { "unknown-signal", "unknown signal name: SIGNOPE" },
        { "negative-timeout", "stop timeout must not be negative: -5 ms" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task Start_BadInput_FailsNamingTheProblemAndKeepsServing(string problem, string expected)
    {
        await using var host = await SupervisorHost.StartAsync();
        var running = host.Track(await host.Client.StartAsync(host.ShellTask("bystander", "echo up; sleep 300"), CancellationToken.None));
        var spec = host.ShellTask("bad", "true");
        spec = problem switch
        {
            "command-not-found" => spec with { Command = "no-such-command-xyz" },
            "not-executable" => spec with { Command = NotExecutable(spec.WorkingDirectory) },
            "workdir-missing" => spec with { WorkingDirectory = Path.Combine(spec.WorkingDirectory, "missing") },
            "unknown-user" => spec with { User = "no-such-user-xyz" },
            "unknown-signal" => spec with { StopSignal = "SIGNOPE" },
            "negative-timeout" => spec with { StopTimeoutMs = -5 },
            _ => throw new ArgumentOutOfRangeException(nameof(problem)),
        };

        var refused = await Assert.ThrowsAsync<SupervisorException>(() => host.Client.StartAsync(spec, CancellationToken.None));

        Assert.Contains(expected, refused.Message, StringComparison.Ordinal);
        var recorded = await host.Client.InspectAsync("bad", CancellationToken.None);
        Assert.NotNull(recorded);
        Assert.Equal(SupervisedTaskState.Failed, recorded.State);
        Assert.Contains(expected, recorded.Error, StringComparison.Ordinal);
        // The supervisor still serves, and the other task was not touched.
        var bystander = await host.Client.InspectAsync("bystander", CancellationToken.None);
        Assert.Equal(SupervisedTaskState.Running, bystander!.State);
        Assert.Equal(running.Pid, bystander.Pid);
        Assert.True(ProcessReaper.IsAlive(running.Pid));
        var next = host.Track(await host.Client.StartAsync(host.ShellTask("after", "sleep 300"), CancellationToken.None));
        Assert.Equal(SupervisedTaskState.Running, next.State);
    }

    [Fact]
    public async Task Start_AllProblemsAtOnce_NamesEveryOne()
    {
        await using var host = await SupervisorHost.StartAsync();
        var spec = host.ShellTask("many", "true") with
        {
            Command = "no-such-command-xyz",
            StopSignal = "BOGUS",
            StopTimeoutMs = -1,
            User = "no-such-user-xyz",
        };

        var refused = await Assert.ThrowsAsync<SupervisorException>(() => host.Client.StartAsync(spec, CancellationToken.None));

        Assert.Contains("command not found", refused.Message, StringComparison.Ordinal);
        Assert.Contains("unknown signal name: BOGUS", refused.Message, StringComparison.Ordinal);
        Assert.Contains("stop timeout must not be negative", refused.Message, StringComparison.Ordinal);
        Assert.Contains("unknown user", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_AsNobody_RunsWithNobodysUid()
    {
        await using var host = await SupervisorHost.StartAsync();
        var nobody = UserAccount.Find("nobody");
        Assert.True(nobody is not null, "this node has no user 'nobody'");
        Assert.True(UserAccount.EffectiveUid == 0, "running as another user needs the tests to run as root");
        var spec = host.ShellTask("as-nobody", "echo uid=$(id -u) gid=$(id -g); sleep 300") with { User = "nobody" };

        var started = host.Track(await host.Client.StartAsync(spec, CancellationToken.None));

        await SupervisorStopTests.WaitForLineAsync(spec.LogDirectory, $"uid={nobody.Uid} gid={nobody.Gid}");
        var status = File.ReadAllLines($"/proc/{started.Pid}/status");
        Assert.Contains(status, l => l.StartsWith("Uid:", StringComparison.Ordinal) && l.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1] == nobody.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var stopped = await host.Client.StopAsync("as-nobody", null, TimeSpan.FromSeconds(10), CancellationToken.None);
        Assert.Equal(SupervisedTaskState.Exited, stopped.State);
    }

    [Fact]
    public async Task Start_WithLimits_WritesThemOrSaysWhyNot()
    {
        await using var host = await SupervisorHost.StartAsync();
        var spec = host.ShellTask("limited", "sleep 300") with { MemoryBytes = 64L * 1024 * 1024, Cpu = 0.5 };

        var started = host.Track(await host.Client.StartAsync(spec, CancellationToken.None));

        if (host.Hello!.CgroupMode.StartsWith("none", StringComparison.Ordinal))
        {
            Assert.StartsWith("limits not enforced: ", started.LimitsNote, StringComparison.Ordinal);
            return;
        }
        Assert.Null(started.LimitsNote);
        var memoryDir = started.Cgroups.First(d => d.Contains("memory", StringComparison.Ordinal) || host.Hello.CgroupMode == "v2");
        var limitFile = host.Hello.CgroupMode == "v2" ? "memory.max" : "memory.limit_in_bytes";
        Assert.Equal(64L * 1024 * 1024, long.Parse(File.ReadAllText(Path.Combine(memoryDir, limitFile)).Trim(), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains(started.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture), File.ReadAllText(Path.Combine(memoryDir, "cgroup.procs")).Split('\n'));
    }

    private static string NotExecutable(string dir)
    {
        var path = Path.Combine(dir, "plain.txt");
        File.WriteAllText(path, "#!/bin/sh\necho hi\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }
}
