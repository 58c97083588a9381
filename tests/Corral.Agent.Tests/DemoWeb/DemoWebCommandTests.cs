using System.Diagnostics;
using System.Net;
using Corral.Agent.Tests.TestSupport;
using Corral.Testing;

namespace Corral.Agent.Tests.DemoWeb;

public class DemoWebCommandTests
{
    private const int SigTerm = 15;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false, PooledConnectionLifetime = TimeSpan.Zero }) { Timeout = TimeSpan.FromSeconds(10) };

    [Fact]
    public async Task DemoWeb_Running_ServesRootAndHealth()
    {
        var port = FreePorts.Next();
        using var demo = DemoWebProcess.Start("--port", port.ToString(), "--name", "web-1");
        await WaitListeningAsync(demo, port);

        var root = await Http.GetStringAsync($"http://127.0.0.1:{port}/");
        using var health = await Http.GetAsync($"http://127.0.0.1:{port}/health");

        Assert.Contains("name: web-1", root, StringComparison.Ordinal);
        Assert.Contains($"pid: {demo.Pid}", root, StringComparison.Ordinal);
        Assert.Contains($"hostname: {Environment.MachineName}", root, StringComparison.Ordinal);
        Assert.Contains("uptime: ", root, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("ok", (await health.Content.ReadAsStringAsync()).Trim());
        Assert.Contains($"listening on http://127.0.0.1:{port}", demo.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DemoWeb_FailHealthAfter_HealthTurns503AfterTheDelay()
    {
        var port = FreePorts.Next();
        var launched = Stopwatch.StartNew();
        using var demo = DemoWebProcess.Start("--port", port.ToString(), "--fail-health-after", "2s");
        await WaitListeningAsync(demo, port);

        var status = await WaitForHealthAsync(port, HttpStatusCode.ServiceUnavailable);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.True(launched.Elapsed >= TimeSpan.FromSeconds(2), $"health failed after only {launched.Elapsed}");

        using var recover = await Http.PostAsync($"http://127.0.0.1:{port}/recover", null);
        Assert.Equal(HttpStatusCode.OK, recover.StatusCode);
        Assert.Equal(HttpStatusCode.OK, await HealthStatusAsync(port));
    }

    [Fact]
    public async Task DemoWeb_PostFailThenRecover_TogglesHealth()
    {
        var port = FreePorts.Next();
        using var demo = DemoWebProcess.Start("--port", port.ToString());
        await WaitListeningAsync(demo, port);
        Assert.Equal(HttpStatusCode.OK, await HealthStatusAsync(port));

        (await Http.PostAsync($"http://127.0.0.1:{port}/fail", null)).Dispose();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await HealthStatusAsync(port));

        (await Http.PostAsync($"http://127.0.0.1:{port}/recover", null)).Dispose();
        Assert.Equal(HttpStatusCode.OK, await HealthStatusAsync(port));
    }

    [Fact]
    public async Task DemoWeb_CrashAfter_ExitsWithTheCode()
    {
        var port = FreePorts.Next();
        using var demo = DemoWebProcess.Start("--port", port.ToString(), "--crash-after", "1s", "--crash-exit-code", "3");

        var code = await demo.WaitForExitAsync(Bound);

        Assert.Equal(3, code);
        Assert.Contains("crashing with exit code 3", demo.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DemoWeb_Sigterm_ExitsZero()
    {
        var port = FreePorts.Next();
        using var demo = DemoWebProcess.Start("--port", port.ToString(), "--crash-after", "1h", "--crash-exit-code", "9");
        await WaitListeningAsync(demo, port);

        ProcessGroups.Signal(demo.Pid, SigTerm);
        var code = await demo.WaitForExitAsync(TimeSpan.FromSeconds(15));

        Assert.Equal(0, code);
    }

    [Fact]
    public async Task DemoWeb_BadDuration_FailsNamingIt()
    {
        using var demo = DemoWebProcess.Start("--port", FreePorts.Next().ToString(), "--fail-health-after", "10x");

        var code = await demo.WaitForExitAsync(Bound);

        Assert.NotEqual(0, code);
        Assert.Contains("--fail-health-after: invalid duration '10x': unknown unit 'x'", demo.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DemoWeb_PortTaken_FailsNamingIt()
    {
        var port = FreePorts.Next();
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, port);
        listener.Start();
        using var demo = DemoWebProcess.Start("--port", port.ToString());

        var code = await demo.WaitForExitAsync(Bound);

        Assert.Equal(1, code);
        Assert.Contains($"cannot listen on 127.0.0.1:{port}", demo.Stderr, StringComparison.Ordinal);
    }

    private static async Task WaitListeningAsync(DemoWebProcess demo, int port)
    {
        var deadline = DateTime.UtcNow + Bound;
        while (DateTime.UtcNow < deadline)
        {
            if (demo.HasExited)
            {
                Assert.Fail($"demo-web exited early; stderr: {demo.Stderr}");
            }
            try
            {
                using var response = await Http.GetAsync($"http://127.0.0.1:{port}/");
                return;
            }
            catch (HttpRequestException)
            {
                await Task.Delay(50);
            }
        }
        Assert.Fail($"demo-web did not answer on port {port} within {Bound}; stderr: {demo.Stderr}");
    }

    private static async Task<HttpStatusCode> HealthStatusAsync(int port)
    {
        using var response = await Http.GetAsync($"http://127.0.0.1:{port}/health");
        return response.StatusCode;
    }

    private static async Task<HttpStatusCode> WaitForHealthAsync(int port, HttpStatusCode wanted)
    {
        var deadline = DateTime.UtcNow + Bound;
        var status = await HealthStatusAsync(port);
        while (status != wanted && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            status = await HealthStatusAsync(port);
        }
        return status;
    }
}
