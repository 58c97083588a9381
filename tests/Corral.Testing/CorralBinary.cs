namespace Corral.Testing;

/// <summary>
/// The built <c>corral</c> CLI next to the test assembly (a test project that starts corral references Corral.Cli,
/// which copies corral.dll beside it), and the dotnet host to run it with.
/// </summary>
public static class CorralBinary
{
    /// <summary>corral.dll beside the tests; fails the test with the fix when it is missing.</summary>
    public static string Dll
    {
        get
        {
            var path = Path.Combine(AppContext.BaseDirectory, "corral.dll");
            Xunit.Assert.True(File.Exists(path), $"corral.dll not found next to the tests at {path}: the test project must reference src/Corral.Cli and be built");
            return path;
        }
    }

    /// <summary>The dotnet host running these tests, so corral runs on the same runtime.</summary>
    public static string Dotnet => Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";
}
