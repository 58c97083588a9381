using System.CommandLine;

namespace Corral.Cli;

/// <summary>The root of the <c>corral</c> command tree; each verb lives in its own command class.</summary>
public static class CorralCommand
{
    public static RootCommand Build()
    {
        var root = new RootCommand("Corral: a high-availability cluster manager.");
        root.Subcommands.Add(VersionCommand.Create());
        root.Subcommands.Add(SupervisorCommand.Create());
        root.Subcommands.Add(AgentCommand.Create());
        root.Subcommands.Add(DemoWebCommand.Create());
        root.Subcommands.Add(ServerCommand.Create());
        root.Subcommands.Add(DevCommand.Create());
        root.Subcommands.Add(StatusCommand.Create());
        root.Subcommands.Add(NodeCommand.Create());
        root.Subcommands.Add(ServiceCommand.Create());
        root.Subcommands.Add(DeployCommand.Create());
        root.Subcommands.Add(DiffCommand.Create());
        root.Subcommands.Add(EventsCommand.Create());
        root.Subcommands.Add(LogsCommand.Create());
        root.Subcommands.Add(AlarmsCommand.Create());
        root.Subcommands.Add(ApiKeyCommand.Create());
        return root;
    }

    /// <summary>
    /// Parses and runs a command line; a command line that does not parse prints its errors and the help and returns
    /// <see cref="ExitCodes.Usage"/>. <paramref name="configuration"/> redirects output (tests).
    /// </summary>
    public static async Task<int> RunAsync(string[] args, InvocationConfiguration? configuration = null, CancellationToken cancellationToken = default)
    {
        var parse = Build().Parse(args);
        var code = await parse.InvokeAsync(configuration ?? new InvocationConfiguration(), cancellationToken).ConfigureAwait(false);
        return parse.Errors.Count > 0 ? ExitCodes.Usage : code;
    }
}
