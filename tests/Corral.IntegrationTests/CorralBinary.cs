namespace Corral.IntegrationTests;

/// <summary>The built <c>corral</c> CLI next to the test assembly (the test project references Corral.Cli).</summary>
internal static class CorralBinary
{
    /// <summary>corral.dll beside the tests; fails the test with the fix when it is missing.</summary>
    public static string Dll
    {
        get
        {
            var path = Path.Combine(AppContext.BaseDirectory, "corral.dll");
            Assert.True(File.Exists(path), $"corral.dll not found next to the tests at {path}: build tests/Corral.IntegrationTests");
            return path;
        }
    }

    /// <summary>The dotnet host running these tests (so the cluster runs on the same runtime).</summary>
    public static string Dotnet => Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";
}
