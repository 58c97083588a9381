using System.Net;
using System.Net.Sockets;
using Corral.Agent.Health;
using Corral.Agent.Tests.TestSupport;
using Corral.Core.Tasks;
using Corral.Testing;

namespace Corral.Agent.Tests.Health;

public class HealthProbeTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task HttpProbe_ServerAnswers200_IsHealthy()
    {
        await using var server = new SwitchableHttpServer();

        var result = await new HttpHealthProbe(server.Port, "/health").ProbeAsync(CancellationToken.None).WaitAsync(Bound);

        Assert.True(result.Healthy, result.Detail);
        Assert.Equal("HTTP 200 from GET /health", result.Detail);
        Assert.Equal("/health", server.LastPath);
    }

    [Theory]
    [InlineData(500)]
    [InlineData(503)]
    [InlineData(404)]
    [InlineData(302)]
    public async Task HttpProbe_ServerAnswersNon2xx_IsUnhealthy(int status)
    {
        await using var server = new SwitchableHttpServer { Status = status };

        var result = await new HttpHealthProbe(server.Port, null).ProbeAsync(CancellationToken.None).WaitAsync(Bound);

        Assert.False(result.Healthy);
        Assert.Equal($"HTTP {status} from GET /", result.Detail);
    }

    [Fact]
    public async Task HttpProbe_NothingListening_IsUnhealthyWithReason()
    {
        var port = FreePorts.Next();

        var result = await new HttpHealthProbe(port, "health").ProbeAsync(CancellationToken.None).WaitAsync(Bound);

        Assert.False(result.Healthy);
        Assert.Contains($"127.0.0.1:{port}/health", result.Detail, StringComparison.Ordinal);
        Assert.Contains("connection failed", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TcpProbe_Listening_IsHealthy()
    {
        var port = FreePorts.Next();
        using var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start();

        var result = await new TcpHealthProbe(port).ProbeAsync(CancellationToken.None).WaitAsync(Bound);

        Assert.True(result.Healthy, result.Detail);
    }

    [Fact]
    public async Task TcpProbe_NothingListening_IsUnhealthy()
    {
        var port = FreePorts.Next();

        var result = await new TcpHealthProbe(port).ProbeAsync(CancellationToken.None).WaitAsync(Bound);

        Assert.False(result.Healthy);
        Assert.Contains($"127.0.0.1:{port} failed", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExecProbe_ExitZero_IsHealthy()
    {
        using var dir = new TempDirectory();

        var result = await new ExecHealthProbe(["sh", "-c", "exit 0"], dir.Path).ProbeAsync(CancellationToken.None).WaitAsync(Bound);

        Assert.True(result.Healthy, result.Detail);
    }

    [Fact]
    public async Task ExecProbe_ExitOne_IsUnhealthyWithOutput()
    {
        using var dir = new TempDirectory();

        var result = await new ExecHealthProbe(["sh", "-c", "echo db down >&2; exit 1"], dir.Path).ProbeAsync(CancellationToken.None).WaitAsync(Bound);

        Assert.False(result.Healthy);
        Assert.Equal("exit code 1: db down", result.Detail);
    }

    [Fact]
    public async Task ExecProbe_RunsInWorkingDirectoryWithEnvironment()
    {
        using var dir = new TempDirectory();
        await File.WriteAllTextAsync(dir.Combine("ready"), "");

        var probe = new ExecHealthProbe(["sh", "-c", "test -f ready && test \"$MODE\" = live"], dir.Path, new Dictionary<string, string> { ["MODE"] = "live" });
        var result = await probe.ProbeAsync(CancellationToken.None).WaitAsync(Bound);

        Assert.True(result.Healthy, result.Detail);
    }

    [Fact]
    public async Task ExecProbe_CommandNotFound_IsUnhealthy()
    {
        using var dir = new TempDirectory();

        var result = await new ExecHealthProbe(["corral-no-such-command-xyz"], dir.Path).ProbeAsync(CancellationToken.None).WaitAsync(Bound);

        Assert.False(result.Healthy);
        Assert.Contains("corral-no-such-command-xyz", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExecProbe_HangsPastCancellation_KillsItsWholeProcessGroup()
    {
        using var dir = new TempDirectory();
        var pidFile = dir.Combine("pid");
        var probe = new ExecHealthProbe(["sh", "-c", $"echo $$ > {pidFile}; sleep 60 & sleep 60; wait"], dir.Path);
        using var cts = new CancellationTokenSource();
        var pid = 0;
        try
        {
            var running = probe.ProbeAsync(cts.Token);
            pid = await ProcessGroups.ReadPidFileAsync(pidFile, Bound);
            Assert.True(ProcessGroups.Exists(pid), "the probe's process group should be running");

            await cts.CancelAsync();

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running.WaitAsync(Bound));
            Assert.True(await ProcessGroups.WaitGoneAsync(pid, Bound), $"process group {pid} still has live processes");
        }
        finally
        {
            ProcessGroups.Kill(pid);
        }
    }

    [Fact]
    public async Task ExecProbe_LeavesBackgroundChild_ChildIsKilled()
    {
        using var dir = new TempDirectory();
        var pidFile = dir.Combine("pid");
        var probe = new ExecHealthProbe(["sh", "-c", $"echo $$ > {pidFile}; sleep 60 >/dev/null 2>&1 & exit 0"], dir.Path);
        var pid = 0;
        try
        {
            var result = await probe.ProbeAsync(CancellationToken.None).WaitAsync(Bound);
            pid = await ProcessGroups.ReadPidFileAsync(pidFile, Bound);

            Assert.True(result.Healthy, result.Detail);
            Assert.True(await ProcessGroups.WaitGoneAsync(pid, Bound), $"process group {pid} still has live processes");
        }
        finally
        {
            ProcessGroups.Kill(pid);
        }
    }

    [Fact]
    public void Create_EachKind_BuildsTheMatchingProbe()
    {
        var ports = new Dictionary<string, int> { ["http"] = 20001, ["admin"] = 20002 };

        var http = Assert.IsType<HttpHealthProbe>(HealthProbes.Create(new HealthCheckSpec { Kind = HealthCheckKind.Http, Path = "/health" }, ports, "/tmp"));
        var tcp = Assert.IsType<TcpHealthProbe>(HealthProbes.Create(new HealthCheckSpec { Kind = HealthCheckKind.Tcp, Port = "admin" }, ports, "/tmp"));
        var exec = Assert.IsType<ExecHealthProbe>(HealthProbes.Create(new HealthCheckSpec { Kind = HealthCheckKind.Exec, Command = ["true"] }, ports, "/work"));

        Assert.Equal(new Uri("http://127.0.0.1:20001/health"), http.Uri);
        Assert.Equal(20002, tcp.Port);
        Assert.Equal(["true"], exec.Command);
        Assert.Equal("/work", exec.WorkingDirectory);
    }

    [Fact]
    public void Create_UnknownPortName_ThrowsNamingIt()
    {
        var ports = new Dictionary<string, int> { ["http"] = 20001 };

        var error = Assert.Throws<ArgumentException>(() =>
            HealthProbes.Create(new HealthCheckSpec { Kind = HealthCheckKind.Http, Port = "metrics" }, ports, "/tmp"));

        Assert.Contains("'metrics' is not one of the task's ports (http)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_TcpWithoutPorts_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            HealthProbes.Create(new HealthCheckSpec { Kind = HealthCheckKind.Tcp }, new Dictionary<string, int>(), "/tmp"));

        Assert.Contains("the task has no ports", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_ExecWithoutCommand_Throws() =>
        Assert.Throws<ArgumentException>(() =>
            HealthProbes.Create(new HealthCheckSpec { Kind = HealthCheckKind.Exec }, new Dictionary<string, int>(), "/tmp"));
}
