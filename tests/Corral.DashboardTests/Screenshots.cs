using Microsoft.Playwright;

namespace Corral.DashboardTests;

/// <summary>
/// Screenshots of the pages for review, in <c>TestResults/screenshots</c> at the repository root (where
/// scripts/test.sh puts test results), or beside the tests when run outside the repository.
/// </summary>
public static class Screenshots
{
    public static string Directory { get; } = Locate();

    public static async Task SaveAsync(IPage page, string name, bool fullPage = true)
    {
        var path = Path.Combine(Directory, name + ".png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = fullPage });
        Assert.True(new FileInfo(path).Length > 1000, $"screenshot {path} is empty");
    }

    private static string Locate()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Corral.slnx")))
        {
            dir = dir.Parent;
        }
        var path = Path.Combine(dir?.FullName ?? AppContext.BaseDirectory, "TestResults", "screenshots");
        System.IO.Directory.CreateDirectory(path);
        return path;
    }
}
