using Corral.Testing;
using Microsoft.Playwright;

namespace Corral.DashboardTests;

/// <summary>
/// Debian's Chromium (<c>/usr/bin/chromium</c>, installed by scripts/install-deps.sh) driven by Playwright, headless,
/// with a fresh profile in a temp directory. Playwright never downloads a browser here. Closed (and its processes
/// with it) on dispose.
/// </summary>
public sealed class Chromium : IAsyncDisposable
{
    public const string ExecutablePath = "/usr/bin/chromium";

    private static readonly string[] Args =
        ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

    private readonly TempDirectory _profile;
    private readonly IPlaywright _playwright;

    private Chromium(TempDirectory profile, IPlaywright playwright, IBrowserContext context)
    {
        _profile = profile;
        _playwright = playwright;
        Context = context;
    }

    /// <summary>The browser's one context (a persistent one, on the fresh profile).</summary>
    public IBrowserContext Context { get; }

    public static async Task<Chromium> LaunchAsync()
    {
        Assert.True(File.Exists(ExecutablePath), $"{ExecutablePath} is missing: run scripts/install-deps.sh (Debian package chromium)");
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        var profile = new TempDirectory("corral-chromium");
        IPlaywright? playwright = null;
        try
        {
            playwright = await Playwright.CreateAsync();
            var context = await playwright.Chromium.LaunchPersistentContextAsync(profile.Path, new BrowserTypeLaunchPersistentContextOptions
            {
                ExecutablePath = ExecutablePath,
                Headless = true,
                Args = Args,
                // The server's certificate is issued by the cluster's own CA, which this profile does not trust.
                IgnoreHTTPSErrors = true,
                ViewportSize = new ViewportSize { Width = 1366, Height = 900 },
                Timeout = 60_000,
            });
            return new Chromium(profile, playwright, context);
        }
        catch
        {
            playwright?.Dispose();
            profile.Dispose();
            throw;
        }
    }

    /// <summary>A new tab (its own sessionStorage, so signed out), with timeouts for a loaded 2-core machine.</summary>
    public async Task<IPage> NewPageAsync(int width = 1366, int height = 900)
    {
        var page = await Context.NewPageAsync();
        page.SetDefaultTimeout(15_000);
        await page.SetViewportSizeAsync(width, height);
        return page;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Context.CloseAsync();
        }
        finally
        {
            _playwright.Dispose();
            _profile.Dispose();
        }
    }
}
