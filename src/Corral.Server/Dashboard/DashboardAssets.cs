using System.Collections.Frozen;
using System.Reflection;
using System.Security.Cryptography;

namespace Corral.Server.Dashboard;

/// <summary>
/// The dashboard's files, embedded in this assembly by the build (<c>Dashboard/wwwroot/**</c> as resources named
/// <c>dashboard/PATH</c>) and read once. Hand-written HTML, CSS and ES modules: nothing is generated or bundled.
/// </summary>
internal sealed class DashboardAssets
{
    private const string Prefix = "dashboard/";

    private static readonly FrozenDictionary<string, string> ContentTypes = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".svg"] = "image/svg+xml",
        [".png"] = "image/png",
        [".ico"] = "image/x-icon",
        [".json"] = "application/json",
        [".webmanifest"] = "application/manifest+json",
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    private readonly FrozenDictionary<string, DashboardAsset> _assets;

    private DashboardAssets(FrozenDictionary<string, DashboardAsset> assets) => _assets = assets;

    /// <summary>Every embedded file, by its path below <c>wwwroot</c> (<c>index.html</c>, <c>js/app.js</c>).</summary>
    public IReadOnlyCollection<string> Paths => _assets.Keys;

    public static DashboardAssets Load()
    {
        var assembly = typeof(DashboardAssets).Assembly;
        var assets = new Dictionary<string, DashboardAsset>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            var path = name[Prefix.Length..].Replace('\\', '/');
            var extension = System.IO.Path.GetExtension(path);
            if (!ContentTypes.TryGetValue(extension, out var contentType))
            {
                throw new InvalidOperationException($"dashboard file {path}: no content type for '{extension}' (add it to {nameof(DashboardAssets)})");
            }
            var content = Read(assembly, name);
            var etag = "\"" + Convert.ToHexStringLower(SHA256.HashData(content).AsSpan(0, 16)) + "\"";
            assets[path] = new DashboardAsset(path, content, contentType, etag);
        }
        if (!assets.ContainsKey("index.html"))
        {
            throw new InvalidOperationException("the dashboard's index.html is not embedded in Corral.Server (see Corral.Server.csproj)");
        }
        return new DashboardAssets(assets.ToFrozenDictionary(StringComparer.Ordinal));
    }

    public bool TryGet(string path, out DashboardAsset asset) => _assets.TryGetValue(path, out asset!);

    private static byte[] Read(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name) ?? throw new InvalidOperationException($"embedded resource {name} is missing");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
