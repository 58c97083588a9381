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
        return root;
    }
}
