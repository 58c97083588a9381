using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Corral.IntegrationTests;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Corral.DashboardTests;

/// <summary>
/// The dashboard with 200 (simulated) nodes and 1,000 replicas on a real server: time to first render, time to
/// render each live update, the longest main-thread task, and how soon a change shows. Prints a table and writes
/// TestResults/dashboard-performance.json; the figures are in docs/performance.md.
/// </summary>
public sealed class LargeClusterTests(DashboardCluster fixture) : IClassFixture<DashboardCluster>
{
    private const int SimulatedNodes = 200;
    private const int Replicas = 1000;
    private const int ShownFirst = 250;
    private static readonly CancellationToken Ct = CancellationToken.None;
    private static readonly TimeSpan Observe = TimeSpan.FromSeconds(8);

    private DevCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task TwoHundredNodesAndAThousandReplicas_PagesRenderAndFollowChanges()
    {
        await using var fleet = await SimulatedFleet.StartAsync(Cluster.Client, Cluster.Port, SimulatedNodes, Ct);
        var stack = $"stack: fleet\nservices:\n  sim:\n    command: /bin/sleep\n    args: [\"100000\"]\n    replicas: {Replicas}\n" +
            "    resources: { cpu: 0.01, memory: 4M }\n    placement: { labels: { fleet: sim } }\n";
        await Cluster.Client.DeployAsync(Stacks.Request(stack), Ct);
        await Cluster.WaitAsync(async () =>
        {
            var s = await Cluster.Client.GetServiceAsync("sim", Ct);
            return s.Healthy == Replicas ? s : null;
        }, TimeSpan.FromSeconds(180), $"{Replicas} simulated replicas healthy");
        var status = await fixture.StatusAsync();
        Assert.Equal(SimulatedNodes + 1, status.Nodes.Count(n => n.Node.Status == Core.Cluster.NodeStatus.Ready));

        var figures = new List<(string Name, double Value, string Unit)>();
        var page = await fixture.SignInAsync(fixture.AdminKey, "#/nodes");

        // Nodes page: 201 rows.
        var nodesFirst = await FirstLoadAsync(page, "#/nodes", "[data-testid=nodes] tbody tr", SimulatedNodes + 1);
        var nodes = await ObserveUpdatesAsync(page, "nodes");
        await Screenshots.SaveAsync(page, "large-nodes", fullPage: false);

        // One service with 1,000 replicas on its page: the first 250 (problems first), then "Show all".
        var serviceFirst = await FirstLoadAsync(page, "#/services/sim", "[data-testid=replicas] tbody tr", ShownFirst);
        await Expect(page.Locator(".cap")).ToContainTextAsync($"Showing {ShownFirst} of {Replicas}");
        var showAll = await page.EvaluateAsync<double>("() => { const t0 = performance.now(); document.querySelector('[data-testid=show-all]').click(); void document.body.offsetHeight; return performance.now() - t0; }");
        await Expect(page.Locator("[data-testid=replicas] tbody tr")).ToHaveCountAsync(Replicas);
        var service = await ObserveUpdatesAsync(page, "service");
        await Screenshots.SaveAsync(page, "large-service", fullPage: false);

        // A change (scale 1000 → 999) reaches the page through the event stream.
        var clock = Stopwatch.StartNew();
        await Cluster.Client.ScaleAsync("sim", Replicas - 1, Ct);
        await page.WaitForFunctionAsync($"() => document.querySelector('[data-testid=desired]')?.textContent === '{Replicas - 1}'", null, new() { PollingInterval = 20, Timeout = 10_000 });
        var changeShown = clock.Elapsed.TotalMilliseconds;
        var longest = nodes.LongTasks.Concat(service.LongTasks).ToList();

        figures.Add(("nodes page: first load to 201 rows", nodesFirst.Total, "ms"));
        figures.Add(("nodes page: first load, of it fetch+parse", nodesFirst.Fetch, "ms"));
        figures.Add(("nodes page: first load, of it render", nodesFirst.Render, "ms"));
        figures.Add(("nodes page: update, fetch+parse median", nodes.FetchMedian, "ms"));
        figures.Add(("nodes page: update, render median", nodes.RenderMedian, "ms"));
        figures.Add(("nodes page: update, render max", nodes.RenderMax, "ms"));
        figures.Add(("service page: first load to 250 of 1,000 rows", serviceFirst.Total, "ms"));
        figures.Add(("service page: first load, of it fetch+parse", serviceFirst.Fetch, "ms"));
        figures.Add(("service page: first load, of it render", serviceFirst.Render, "ms"));
        figures.Add(("service page: Show all, render 1,000 rows", showAll, "ms"));
        figures.Add(("service page: update, fetch+parse median", service.FetchMedian, "ms"));
        figures.Add(("service page: update of 1,000 rows, render median", service.RenderMedian, "ms"));
        figures.Add(("service page: update of 1,000 rows, render max", service.RenderMax, "ms"));
        figures.Add(("scale via API to shown on the page", changeShown, "ms"));
        figures.Add(("longest main-thread task over 50 ms (0: none)", longest.DefaultIfEmpty(0).Max(), "ms"));
        figures.Add(("main-thread tasks over 50 ms while live (16 s)", longest.Count, "count"));
        Report(figures);

        Assert.True(fleet.Rounds > 0, "the simulated nodes sent no heartbeat round");
        Assert.True(changeShown <= 2000, $"the scale showed on the 1,000-replica page after {changeShown:F0} ms (budget 2,000 ms)");
        await page.CloseAsync();
        await Cluster.Client.RemoveServiceAsync("sim", Ct);
    }

    /// <summary>Reloads the page on <paramref name="route"/>: when the first view with data was on screen, and of that the first fetch and render.</summary>
    private async Task<(double Total, double Fetch, double Render)> FirstLoadAsync(IPage page, string route, string rows, int count)
    {
        await page.GotoAsync(fixture.Url + route);
        await page.ReloadAsync();
        await Expect(page.Locator(rows)).ToHaveCountAsync(count, new() { Timeout = 30_000 });
        var first = await page.EvaluateAsync<JsonElement>("() => ({ total: performance.getEntriesByName('corral:first-data')[0].startTime, fetch: window.corralStats.loads[0].fetchMs, render: window.corralStats.loads[0].renderMs })");
        return (first.GetProperty("total").GetDouble(), first.GetProperty("fetch").GetDouble(), first.GetProperty("render").GetDouble());
    }

    private static async Task<(double FetchMedian, double RenderMedian, double RenderMax, double[] LongTasks)> ObserveUpdatesAsync(IPage page, string route)
    {
        var from = await page.EvaluateAsync<double>("() => { window.__long = []; new PerformanceObserver(l => window.__long.push(...l.getEntries().map(e => e.duration))).observe({ type: 'longtask' }); return performance.now(); }");
        await page.WaitForTimeoutAsync((float)Observe.TotalMilliseconds);
        var longTasks = await page.EvaluateAsync<double[]>("() => window.__long");
        var loads = await page.EvaluateAsync<JsonElement>($"() => window.corralStats.loads.filter(l => l.route === '{route}' && l.at > {from.ToString(CultureInfo.InvariantCulture)})");
        var fetch = loads.EnumerateArray().Select(l => l.GetProperty("fetchMs").GetDouble()).Order().ToList();
        var render = loads.EnumerateArray().Select(l => l.GetProperty("renderMs").GetDouble()).Order().ToList();
        Assert.True(render.Count >= Observe.TotalSeconds / 2, $"only {render.Count} refreshes of the {route} page in {Observe.TotalSeconds} s");
        return (fetch[fetch.Count / 2], render[render.Count / 2], render[^1], longTasks);
    }

    private static void Report(List<(string Name, double Value, string Unit)> figures)
    {
        var table = new StringBuilder().AppendLine(CultureInfo.InvariantCulture, $"dashboard with {SimulatedNodes + 1} nodes and {Replicas} replicas (Chromium headless, loopback)");
        foreach (var (name, value, unit) in figures)
        {
            table.AppendLine(CultureInfo.InvariantCulture, $"  {name,-50} {value,8:F0} {unit}");
        }
        var json = JsonSerializer.Serialize(figures.ToDictionary(f => f.Name, f => Math.Round(f.Value, 1)));
        Console.WriteLine(table.ToString() + json);
        File.WriteAllText(Path.Combine(Path.GetDirectoryName(Screenshots.Directory)!, "dashboard-performance.json"), json + "\n");
    }
}
