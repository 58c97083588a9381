using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Corral.Core;
using Corral.Core.Cluster;
using Corral.Server.State;

namespace Corral.Server.Tests.Api;

public sealed class MetricsApiTests : IAsyncLifetime
{
    private ServerHost _host = null!;

    public async Task InitializeAsync() => _host = await ServerHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Metrics_NeedsAMetricsOrViewerKey()
    {
        using var anonymous = _host.Client();
        using var metricsKey = _host.Client(await _host.CreateKeyAsync("prom", "metrics"));
        using var viewer = _host.Client(await _host.CreateKeyAsync("v", "viewer"));

        using var refused = await anonymous.GetAsync("/metrics");
        using var byMetricsKey = await metricsKey.GetAsync("/metrics");
        using var byViewer = await viewer.GetAsync("/metrics");
        using var statusByMetricsKey = await metricsKey.GetAsync("/v1/status");

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, byMetricsKey.StatusCode);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", byMetricsKey.Content.Headers.ContentType?.ToString());
        Assert.Equal(HttpStatusCode.OK, byViewer.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, statusByMetricsKey.StatusCode);
    }

    [Fact]
    public async Task Metrics_PassPromtoolCheck()
    {
        using var viewer = _host.Client(await _host.CreateKeyAsync("v", "viewer"));
        await _host.State.Store.PutAsync(Keys.Node("a"), JsonSerializer.SerializeToUtf8Bytes(new Node { Name = "a", StatusSince = DateTimeOffset.UtcNow }, CoreJson.Default.Node));
        (await viewer.GetAsync("/v1/status")).Dispose();
        (await viewer.GetAsync("/v1/nodes/nope")).Dispose();

        var text = await viewer.GetStringAsync("/metrics");

        foreach (var name in new[] { "corral_nodes", "corral_replicas", "corral_leader", "corral_api_requests_total", "corral_api_request_duration_seconds_bucket", "corral_store_request_duration_seconds_count", "corral_alarms" })
        {
            Assert.True(text.Contains("\n" + name, StringComparison.Ordinal), $"no {name} in:\n{text}");
        }
        var (exit, output) = await PromtoolAsync(text);
        Assert.True(exit == 0, $"promtool check metrics failed ({exit}):\n{output}\n--- metrics ---\n{text}");
    }

    [Fact]
    public async Task Metrics_ValuesMoveWhenTheClusterChanges()
    {
        using var viewer = _host.Client(await _host.CreateKeyAsync("v", "viewer"));
        // A scrape counts itself once it has answered: the second one shows the first.
        await viewer.GetStringAsync("/metrics");
        var before = await viewer.GetStringAsync("/metrics");
        Assert.Equal(0, Value(before, "corral_nodes{status=\"ready\"}"));

        await _host.State.Store.PutAsync(Keys.Node("a"), JsonSerializer.SerializeToUtf8Bytes(new Node { Name = "a", StatusSince = DateTimeOffset.UtcNow }, CoreJson.Default.Node));
        await _host.State.Store.PutAsync(Keys.Node("b"), JsonSerializer.SerializeToUtf8Bytes(new Node { Name = "b", Status = NodeStatus.Down, StatusSince = DateTimeOffset.UtcNow }, CoreJson.Default.Node));
        // Gauges read the server's watch-fed cache, which follows the store within moments.
        var after = await Corral.Testing.Eventually.ValueAsync(async () =>
        {
            var text = await viewer.GetStringAsync("/metrics");
            return Value(text, "corral_nodes{status=\"down\"}") == 1 ? text : null;
        }, TimeSpan.FromSeconds(30), "the down node in corral_nodes");

        Assert.Equal(1, Value(after, "corral_nodes{status=\"ready\"}"));
        var requests = "corral_api_requests_total{route=\"/metrics\",method=\"GET\",status=\"200\"}";
        Assert.True(Value(after, requests) > Value(before, requests));
        // The leader's monitor raises node.down for b and the score drops below 100.
        await Corral.Testing.Eventually.TrueAsync(() =>
        {
            var text = viewer.GetStringAsync("/metrics").GetAwaiter().GetResult();
            return text.Contains("corral_health_score ", StringComparison.Ordinal) && Value(text, "corral_health_score") < 100 && Value(text, "corral_alarms{severity=\"critical\"}") >= 1;
        }, TimeSpan.FromSeconds(30), "the health score to drop and a critical alarm to show");
    }

    internal static double Value(string text, string series)
    {
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(series + " ", StringComparison.Ordinal))
            {
                return double.Parse(line[(series.Length + 1)..], CultureInfo.InvariantCulture);
            }
        }
        throw new Xunit.Sdk.XunitException($"no series {series} in:\n{text}");
    }

    internal static async Task<(int Exit, string Output)> PromtoolAsync(string text)
    {
        var start = new ProcessStartInfo("promtool") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("check");
        start.ArgumentList.Add("metrics");
        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.StandardInput.WriteAsync(text);
        process.StandardInput.Close();
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return (process.ExitCode, await stdout + await stderr);
    }
}
