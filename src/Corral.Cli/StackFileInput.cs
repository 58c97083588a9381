using Corral.Core.Api;

namespace Corral.Cli;

/// <summary>Reads the stack file named by <c>-f</c> into a deploy/diff request (the path as given, for error locations).</summary>
internal static class StackFileInput
{
    /// <summary>The request, or null after printing why the file cannot be read.</summary>
    public static DeployRequest? Read(CliOutput output, string path, bool prune)
    {
        try
        {
            var yaml = path == "-" ? Console.In.ReadToEnd() : File.ReadAllText(path);
            return new DeployRequest(yaml, path == "-" ? "stdin" : path, prune);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            output.ErrorLine($"corral: cannot read stack file {path}: {e.Message}");
            return null;
        }
    }

    /// <summary>Prints a deploy or diff result: one line per service, or that nothing changes.</summary>
    public static void WriteChanges(CliOutput output, DeployResult result, string file, bool applied)
    {
        if (!result.Changed)
        {
            output.Line($"stack '{result.Stack}' ({file}): no changes");
            if (result.Changes.Any(c => c.Kind == ServiceChangeKind.KeptNotInFile))
            {
                WriteTable(output, result.Changes.Where(c => c.Kind == ServiceChangeKind.KeptNotInFile));
            }
            return;
        }
        var count = result.Changes.Count(c => c.Kind is not (ServiceChangeKind.Unchanged or ServiceChangeKind.KeptNotInFile));
        output.Line($"stack '{result.Stack}' ({file}): {count} service{(count == 1 ? "" : "s")} {(applied ? "changed" : "would change")}");
        WriteTable(output, result.Changes);
    }

    private static void WriteTable(CliOutput output, IEnumerable<ServiceChange> changes)
    {
        var table = CliOutput.Table("SERVICE", "CHANGE", "DETAIL");
        foreach (var change in changes)
        {
            CliOutput.Row(table, change.Service, Show.Change(change.Kind), change.Detail.Length == 0 ? "-" : change.Detail);
        }
        output.Write(table);
    }
}
