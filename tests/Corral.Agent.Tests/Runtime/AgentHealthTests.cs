using System.Text.Json.Nodes;
using Corral.Core.Tasks;

using Corral.Testing;

namespace Corral.Agent.Tests.Runtime;

public sealed class AgentHealthTests
{
    private static JsonObject Health(string kind, JsonObject? extra = null)
    {
        var health = new JsonObject { ["kind"] = kind, ["interval"] = "200ms", ["timeout"] = "2s", ["retries"] = 2 };
        foreach (var (key, value) in extra ?? [])
        {
            health[key] = value?.DeepClone();
        }
        return health;
    }

    private static JsonObject DemoWeb(JsonObject health) => new()
    {
        ["command"] = CorralBinary.Dotnet,
        ["args"] = new JsonArray(CorralBinary.Dll, "demo-web", "--port", "${PORT}"),
        ["ports"] = new JsonArray("http"),
        ["health"] = health,
    };

    [Fact]
    public async Task HttpCheck_DemoWebFailsAndRecovers_ReplicaGoesUnhealthyAndBack()
    {
        await using var host = new AgentHost();
        host.WriteTasks(new JsonObject { ["web"] = DemoWeb(Health("http", new JsonObject { ["path"] = "/health" })) });
        await host.StartAsync(1);

        var healthy = await host.WaitForStateAsync("web", ReplicaState.Healthy);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{healthy.Ports["http"]}") };
        (await http.PostAsync("/fail", null)).EnsureSuccessStatusCode();
        var unhealthy = await host.WaitForStateAsync("web", ReplicaState.Unhealthy);
        Assert.Contains("2 consecutive failures", unhealthy.Reason, StringComparison.Ordinal);
        (await http.PostAsync("/recover", null)).EnsureSuccessStatusCode();
        var again = await host.WaitForStateAsync("web", ReplicaState.Healthy);

        Assert.Equal(healthy.Pid, again.Pid);
        Assert.Equal(0, again.Restarts);
    }

    [Fact]
    public async Task TcpCheck_ListenerGoesAwayAndComesBack_ReplicaGoesUnhealthyAndBack()
    {
        await using var host = new AgentHost();
        // The task runs demo-web while there is no file 'down', and runs it again once 'up' appears.
        var script =
            $"while true; do \"{CorralBinary.Dotnet}\" \"{CorralBinary.Dll}\" demo-web --port \"$PORT\" & web=$!; " +
            "until [ -f down ]; do sleep 0.1; done; rm -f down; kill $web; wait $web; " +
            "until [ -f up ]; do sleep 0.1; done; rm -f up; done";
        host.WriteTasks(new JsonObject
        {
            ["tcp"] = AgentHost.Shell(script, new JsonObject { ["ports"] = new JsonArray("http"), ["health"] = Health("tcp") }),
        });
        await host.StartAsync(1);
        var taskDir = Path.Combine(host.DataDir, "tasks", "tcp");

        var healthy = await host.WaitForStateAsync("tcp", ReplicaState.Healthy);
        File.WriteAllText(Path.Combine(taskDir, "down"), "");
        await host.WaitForStateAsync("tcp", ReplicaState.Unhealthy);
        File.WriteAllText(Path.Combine(taskDir, "up"), "");
        var again = await host.WaitForStateAsync("tcp", ReplicaState.Healthy);

        Assert.Equal(healthy.Pid, again.Pid);
    }

    [Fact]
    public async Task ExecCheck_CommandStartsFailingAndPassing_ReplicaGoesUnhealthyAndBack()
    {
        await using var host = new AgentHost();
        host.WriteTasks(new JsonObject
        {
            ["exec"] = AgentHost.Shell(
                "touch ok; exec sleep 300",
                new JsonObject { ["health"] = Health("exec", new JsonObject { ["command"] = new JsonArray("/bin/sh", "-c", "test -f ok") }) }),
        });
        await host.StartAsync(1);
        var okFile = Path.Combine(host.DataDir, "tasks", "exec", "ok");

        var healthy = await host.WaitForStateAsync("exec", ReplicaState.Healthy);
        File.Delete(okFile);
        var unhealthy = await host.WaitForStateAsync("exec", ReplicaState.Unhealthy);
        Assert.Contains("exit code 1", unhealthy.Reason, StringComparison.Ordinal);
        File.WriteAllText(okFile, "");
        var again = await host.WaitForStateAsync("exec", ReplicaState.Healthy);

        Assert.Equal(healthy.Pid, again.Pid);
    }

    [Fact]
    public async Task HttpCheck_FailingAfterStart_StaysRunningUntilVerdictThenUnhealthy()
    {
        await using var host = new AgentHost();
        var web = DemoWeb(Health("http", new JsonObject { ["path"] = "/health" }));
        ((JsonArray)web["args"]!).Add("--fail-health-after");
        ((JsonArray)web["args"]!).Add("3s");
        host.WriteTasks(new JsonObject { ["web"] = web });
        await host.StartAsync(1);

        await host.WaitForStateAsync("web", ReplicaState.Healthy);
        var unhealthy = await host.WaitForStateAsync("web", ReplicaState.Unhealthy);

        Assert.Contains("503", unhealthy.Reason, StringComparison.Ordinal);
    }
}
