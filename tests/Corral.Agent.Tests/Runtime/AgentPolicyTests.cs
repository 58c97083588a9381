using System.Text.Json.Nodes;
using Corral.Core.Tasks;
using Corral.Testing;

namespace Corral.Agent.Tests.Runtime;

public sealed class AgentPolicyTests
{
    private static JsonObject Restart(string mode, int maxAttempts = 5, string backoff = "0s") => new()
    {
        ["restart"] = new JsonObject { ["mode"] = mode, ["max_attempts"] = maxAttempts, ["backoff"] = backoff, ["max_backoff"] = "1s", ["window"] = "5m" },
    };

    [Fact]
    public async Task RestartPolicies_EachMode_EndsAsItSays()
    {
        await using var host = new AgentHost();
        host.WriteTasks(new JsonObject
        {
            // Counts its own starts in a file of its task directory.
            ["always-clean"] = AgentHost.Shell("echo x >> starts; exit 0", Restart("always", maxAttempts: 3)),
            ["on-failure-clean"] = AgentHost.Shell("echo x >> starts; exit 0", Restart("on-failure")),
            ["on-failure-crash"] = AgentHost.Shell("echo x >> starts; echo 'disk on fire' >&2; exit 7", Restart("on-failure", maxAttempts: 2, backoff: "50ms")),
            ["never-crash"] = AgentHost.Shell("echo x >> starts; exit 1", Restart("never")),
        });

        await host.StartAsync(4);

        var always = await host.WaitForStateAsync("always-clean", ReplicaState.Failed);
        Assert.Equal(3, always.Restarts);
        Assert.StartsWith("restart loop: exited with code 0, 3 restarts", always.Reason, StringComparison.Ordinal);
        Assert.Equal(4, Starts(host, "always-clean"));

        var clean = await host.WaitForStateAsync("on-failure-clean", ReplicaState.Exited);
        Assert.Equal(0, clean.LastExitCode);
        Assert.Equal(1, Starts(host, "on-failure-clean"));

        var crash = await host.WaitForStateAsync("on-failure-crash", ReplicaState.Failed);
        Assert.Equal(7, crash.LastExitCode);
        Assert.Equal(2, crash.Restarts);
        Assert.StartsWith("crash loop: exited with code 7, 2 restarts in 5m", crash.Reason, StringComparison.Ordinal);
        Assert.Contains("last stderr: disk on fire", crash.Reason, StringComparison.Ordinal);
        Assert.Equal(3, Starts(host, "on-failure-crash"));

        var never = await host.WaitForStateAsync("never-crash", ReplicaState.Failed);
        Assert.Equal(1, never.LastExitCode);
        Assert.Equal(0, never.Restarts);
        Assert.Equal(1, Starts(host, "never-crash"));
    }

    [Fact]
    public async Task CrashLoop_WithBackoff_RestartsAfterGrowingDelaysThenFails()
    {
        await using var host = new AgentHost();
        host.WriteTasks(new JsonObject
        {
            ["backoff"] = AgentHost.Shell(
                "date +%s%N >> starts; exit 2",
                new JsonObject { ["restart"] = new JsonObject { ["mode"] = "always", ["max_attempts"] = 3, ["backoff"] = "300ms", ["max_backoff"] = "10s", ["jitter"] = 0 } }),
        });

        await host.StartAsync(1);

        var failed = await host.WaitForStateAsync("backoff", ReplicaState.Failed);
        Assert.StartsWith("crash loop: exited with code 2, 3 restarts", failed.Reason, StringComparison.Ordinal);
        var starts = File.ReadAllLines(Path.Combine(host.DataDir, "tasks", "backoff", "starts"))
            .Select(l => long.Parse(l, System.Globalization.CultureInfo.InvariantCulture) / 1_000_000).ToList();
        Assert.Equal(4, starts.Count);
        // Back-off doubles: at least 300, 600 and 1200 ms between the starts (lower bounds only).
        Assert.True(starts[1] - starts[0] >= 300, $"first restart after {starts[1] - starts[0]} ms");
        Assert.True(starts[2] - starts[1] >= 600, $"second restart after {starts[2] - starts[1]} ms");
        Assert.True(starts[3] - starts[2] >= 1200, $"third restart after {starts[3] - starts[2]} ms");
    }

    [Fact]
    public async Task BadInput_EachProblem_ReplicaFailsNamingItAndOthersRun()
    {
        await using var host = new AgentHost();
        host.WriteTasks(new JsonObject
        {
            ["good"] = AgentHost.Shell("echo up; sleep 300"),
            ["no-command"] = new JsonObject { ["command"] = "no-such-command-xyz" },
            ["no-workdir"] = AgentHost.Shell("true", new JsonObject { ["working_directory"] = "/no/such/dir" }),
            ["no-user"] = AgentHost.Shell("true", new JsonObject { ["user"] = "no-such-user-xyz" }),
            ["bad-signal"] = AgentHost.Shell("true", new JsonObject { ["stop_signal"] = "SIGNOPE" }),
            ["negative-timeout"] = AgentHost.Shell("true", new JsonObject { ["stop_timeout"] = "-5s" }),
            ["escaping-file"] = AgentHost.Shell("true", new JsonObject { ["files"] = new JsonArray(new JsonObject { ["path"] = "../outside.txt", ["content"] = "x" }) }),
            ["unknown-variable"] = AgentHost.Shell("true", new JsonObject { ["args"] = new JsonArray("-c", "echo ${NOPE}") }),
        });

        await host.StartAsync(8);

        Assert.Contains("command not found: no-such-command-xyz", (await host.WaitForStateAsync("no-command", ReplicaState.Failed)).Reason, StringComparison.Ordinal);
        Assert.Contains("working directory does not exist: /no/such/dir", (await host.WaitForStateAsync("no-workdir", ReplicaState.Failed)).Reason, StringComparison.Ordinal);
        Assert.Contains("unknown user: no-such-user-xyz", (await host.WaitForStateAsync("no-user", ReplicaState.Failed)).Reason, StringComparison.Ordinal);
        Assert.Contains("unknown signal name: SIGNOPE", (await host.WaitForStateAsync("bad-signal", ReplicaState.Failed)).Reason, StringComparison.Ordinal);
        Assert.Contains("stop timeout must not be negative", (await host.WaitForStateAsync("negative-timeout", ReplicaState.Failed)).Reason, StringComparison.Ordinal);
        Assert.Contains("escapes the task directory: '../outside.txt'", (await host.WaitForStateAsync("escaping-file", ReplicaState.Failed)).Reason, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(host.DataDir, "tasks", "outside.txt")));
        Assert.Contains("unknown variable ${NOPE}", (await host.WaitForStateAsync("unknown-variable", ReplicaState.Failed)).Reason, StringComparison.Ordinal);
        var good = await host.WaitForStateAsync("good", ReplicaState.Healthy);
        Assert.True(ProcessReaper.IsAlive(good.Pid));
        Assert.True(ProcessReaper.IsAlive(host.Agent!.Id));
        Assert.True(ProcessReaper.IsAlive(host.SupervisorPid()));
    }

    [Fact]
    public async Task Ports_FiftyTasksStartingTogether_EachGetsItsOwnPortsInItsEnvironment()
    {
        await using var host = new AgentHost();
        var tasks = new JsonObject();
        for (var i = 0; i < 50; i++)
        {
            tasks[$"p{i}"] = AgentHost.Shell(
                "echo \"port=$PORT http=$CORRAL_PORT_HTTP admin=$CORRAL_PORT_ADMIN_API\"; exec sleep 300",
                new JsonObject { ["ports"] = new JsonArray("http", "admin-api") });
        }
        host.WriteTasks(tasks);

        await host.StartAsync(50);

        var seen = new HashSet<int>();
        for (var i = 0; i < 50; i++)
        {
            var view = await host.WaitForAsync($"p{i}", v => v.State == ReplicaState.Healthy && v.Ports.Count == 2, "running with two ports");
            Assert.True(seen.Add(view.Ports["http"]), $"port {view.Ports["http"]} handed out twice");
            Assert.True(seen.Add(view.Ports["admin-api"]), $"port {view.Ports["admin-api"]} handed out twice");
            var expected = $"port={view.Ports["http"]} http={view.Ports["http"]} admin={view.Ports["admin-api"]}";
            await Eventually.TrueAsync(() => host.Delivered($"p{i}").Any(l => l.Text == expected), TimeSpan.FromSeconds(60), $"p{i} to print {expected}");
        }
    }

    private static int Starts(AgentHost host, string id) =>
        File.ReadAllLines(Path.Combine(host.DataDir, "tasks", id, "starts")).Length;
}
