using System.Diagnostics.Metrics;
using Corral.Server.Metrics;
using Corral.Server.Tests.Api;

namespace Corral.Server.Tests.Metrics;

public sealed class PrometheusExporterTests
{
    [Fact]
    public async Task Render_CounterHistogramAndGauge_InTextFormatThatPromtoolAccepts()
    {
        using var meter = new Meter("Corral.Test." + Guid.NewGuid().ToString("N"));
        using var exporter = new PrometheusExporter(m => ReferenceEquals(m, meter));
        var counter = meter.CreateCounter<long>("test_jobs_total", description: "Jobs done.");
        var histogram = meter.CreateHistogram<double>("test_job_duration_seconds", "s", "Job latency.");
        meter.CreateObservableGauge("test_queue_depth", () => new[] { new Measurement<double>(3, new KeyValuePair<string, object?>("queue", "a\"b\\c\nd")) }, description: "Queue depth.");

        counter.Add(2, new KeyValuePair<string, object?>("outcome", "ok"));
        counter.Add(3, new KeyValuePair<string, object?>("outcome", "ok"));
        histogram.Record(0.003);
        histogram.Record(0.2);
        histogram.Record(42);

        var text = exporter.Render();

        Assert.Contains("# TYPE test_jobs_total counter\ntest_jobs_total{outcome=\"ok\"} 5\n", text, StringComparison.Ordinal);
        Assert.Contains("test_job_duration_seconds_bucket{le=\"0.0025\"} 0\n", text, StringComparison.Ordinal);
        Assert.Contains("test_job_duration_seconds_bucket{le=\"0.005\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("test_job_duration_seconds_bucket{le=\"0.25\"} 2\n", text, StringComparison.Ordinal);
        Assert.Contains("test_job_duration_seconds_bucket{le=\"10\"} 2\n", text, StringComparison.Ordinal);
        Assert.Contains("test_job_duration_seconds_bucket{le=\"+Inf\"} 3\n", text, StringComparison.Ordinal);
        Assert.Contains("test_job_duration_seconds_count 3\n", text, StringComparison.Ordinal);
        Assert.Contains("test_job_duration_seconds_sum 42.203\n", text, StringComparison.Ordinal);
        Assert.Contains("test_queue_depth{queue=\"a\\\"b\\\\c\\nd\"} 3\n", text, StringComparison.Ordinal);
        var (exit, output) = await MetricsApiTests.PromtoolAsync(text);
        Assert.True(exit == 0, $"promtool: {output}\n{text}");
    }

    [Fact]
    public void Render_ObservableGauge_ShowsOnlyThisScrapesValues()
    {
        using var meter = new Meter("Corral.Test." + Guid.NewGuid().ToString("N"));
        using var exporter = new PrometheusExporter(m => ReferenceEquals(m, meter));
        var nodes = new[] { "a", "b" };
        meter.CreateObservableGauge("test_up", () => nodes.Select(n => new Measurement<double>(1, new KeyValuePair<string, object?>("node", n))), description: "Up.");

        var first = exporter.Render();
        nodes = ["b"];
        var second = exporter.Render();

        Assert.Contains("test_up{node=\"a\"} 1", first, StringComparison.Ordinal);
        Assert.DoesNotContain("node=\"a\"", second, StringComparison.Ordinal);
        Assert.Contains("test_up{node=\"b\"} 1", second, StringComparison.Ordinal);
    }
}
