using System.Text.Json;
using Corral.Core;
using Corral.Core.Api;
using Corral.IntegrationTests;
using Microsoft.Playwright;

namespace Corral.DashboardTests;

/// <summary>
/// A real <c>corral dev</c> (see <see cref="DevCluster"/>) running a small stack — <c>web</c> (3 demo-web replicas
/// with HTTP health checks) and <c>worker</c> (1) — with a viewer and an operator key, and a headless Chromium to look
/// at its dashboard. Shared by the tests of one class; everything is stopped on dispose.
/// </summary>
public sealed class DashboardCluster : IAsyncLifetime
{
    private Chromium? _browser;

    public DevCluster Cluster { get; } = new();

    public Chromium Browser => _browser ?? throw new InvalidOperationException("not started");

    /// <summary>The dashboard's address, <c>https://127.0.0.1:PORT/ui/</c>.</summary>
    public string Url => $"https://127.0.0.1:{Cluster.Port}/ui/";

    public string AdminKey { get; private set; } = "";

    public string OperatorKey { get; private set; } = "";

    public string ViewerKey { get; private set; } = "";

    public async Task InitializeAsync()
    {
        await Cluster.InitializeAsync();
        AdminKey = JsonSerializer.Deserialize(File.ReadAllText(Path.Combine(Cluster.DataDir, "admin.json")), CoreJson.Default.ClientConfig)!.Token;
        var ct = CancellationToken.None;
        OperatorKey = (await Cluster.Client.CreateApiKeyAsync("ops", "operator", ct)).Token;
        ViewerKey = (await Cluster.Client.CreateApiKeyAsync("watcher", "viewer", ct)).Token;
        await Cluster.Client.DeployAsync(Stacks.Request(Stacks.Stack("shop", Stacks.Web("web", 3), Stacks.Worker("worker", 1))), ct);
        await Cluster.WaitAsync(async () =>
        {
            var services = await Cluster.Client.ListServicesAsync(ct);
            return services.Count == 2 && services.All(s => s.Running == s.Desired) && services.Single(s => s.Spec.Name == "web").Healthy == 3 ? services : null;
        }, DevCluster.StartTimeout, "web (3 healthy) and worker (1 running)");
        _browser = await Chromium.LaunchAsync();
    }

    /// <summary>Opens the dashboard in a new tab and signs in with <paramref name="key"/>; returns once signed in.</summary>
    public async Task<IPage> SignInAsync(string key, string route = "", int width = 1366, int height = 900)
    {
        var page = await Browser.NewPageAsync(width, height);
        await page.GotoAsync(Url + route);
        await page.FillAsync("#key", key);
        await page.ClickAsync("#sign-in-form button[type=submit]");
        await Assertions.Expect(page.Locator("#who")).ToBeVisibleAsync();
        return page;
    }

    /// <summary>The current status, as the API reports it.</summary>
    public Task<ClusterStatus> StatusAsync() => Cluster.Client.GetStatusAsync(CancellationToken.None);

    public async Task DisposeAsync()
    {
        try
        {
            if (_browser is not null)
            {
                await _browser.DisposeAsync();
            }
        }
        finally
        {
            await Cluster.DisposeAsync();
        }
    }
}
