namespace Corral.Agent.Tests;

/// <summary>The built <c>corral</c> CLI next to the test assembly (the test project references Corral.Cli).</summary>
internal static class CorralBinary
{
    public static string Dll
    {
        get
        {
            var path = Path.Combine(AppContext.BaseDirectory, "corral.dll");
            Assert.True(File.Exists(path), $"corral.dll not found next to the tests at {path}: build tests/Corral.Agent.Tests");
            return path;
        }
    }

    public static string Dotnet => Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";
}
