using System.Reflection;

namespace Corral.Cli;

/// <summary>How to run this same corral binary again (for the agent starting its supervisor).</summary>
internal static class SelfCommand
{
    /// <summary><c>[corral]</c> for the app host, or <c>[dotnet, /path/corral.dll]</c> when run through the dotnet host.</summary>
    public static IReadOnlyList<string> Get()
    {
        var process = Environment.ProcessPath ?? throw new InvalidOperationException("cannot tell which program runs corral");
        if (Path.GetFileNameWithoutExtension(process) == "dotnet")
        {
            var dll = Assembly.GetEntryAssembly()?.Location;
            if (string.IsNullOrEmpty(dll))
            {
                throw new InvalidOperationException("cannot find corral.dll to start the supervisor");
            }
            return [process, dll];
        }
        return [process];
    }
}
