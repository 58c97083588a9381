using System.CommandLine;
using Corral.Core;
using Corral.Core.Api;

namespace Corral.Cli;

/// <summary><c>corral node ls</c> and <c>corral node show NAME</c>.</summary>
internal static class NodeCommand
{
    public static Command Create()
    {
        var command = new Command("node", "List and inspect nodes.");
        command.Subcommands.Add(List());
        command.Subcommands.Add(ShowNode());
        command.Subcommands.Add(NodeTokenCommand.Create());
        return command;
    }

    private static Command List()
    {
        var command = new Command("ls", "List nodes: status, capacity, replicas, last heartbeat, labels.");
        command.Aliases.Add("list");
        var options = ClientOptions.AddTo(command);
        ClientAction.Set(command, options, async (context, cancellationToken) =>
        {
            var nodes = await context.Client.ListNodesAsync(cancellationToken).ConfigureAwait(false);
            if (context.Output.Json)
            {
                context.Output.WriteJson(nodes.ToList(), CoreJson.Default.ListNodeView);
            }
            else
            {
                WriteNodes(context.Output, nodes);
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command ShowNode()
    {
        var name = new Argument<string>("NAME") { Description = "The node's name." };
        var command = new Command("show", "Show one node and the replicas on it.") { name };
        var options = ClientOptions.AddTo(command);
        ClientAction.Set(command, options, async (context, cancellationToken) =>
        {
            var view = await context.Client.GetNodeAsync(context.Parse.GetValue(name)!, cancellationToken).ConfigureAwait(false);
            var output = context.Output;
            if (output.Json)
            {
                output.WriteJson(view, CoreJson.Default.NodeView);
                return ExitCodes.Ok;
            }
            var replicas = await context.Client.ListReplicasAsync(null, view.Node.Name, cancellationToken).ConfigureAwait(false);
            var node = view.Node;
            var now = DateTimeOffset.UtcNow;
            output.Write(CliOutput.Details(
            [
                ("name", node.Name),
                ("status", $"{Show.NodeStatus(node)} (since {Show.Time(node.StatusSince)})"),
                ("eligible", node.Eligible ? "yes" : "no (drained)"),
                ("addresses", node.Addresses.Count == 0 ? "-" : string.Join(", ", node.Addresses)),
                ("cpu", $"{Show.Cores(node.CpuCores)} cores, {Show.Percent(view.CpuPercent)} used"),
                ("memory", $"{Show.Bytes(node.MemoryBytes)}, {Show.Bytes(view.MemoryUsedBytes)} used"),
                ("load1", view.Load1?.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture) ?? "-"),
                ("ports", StatusCommand.Num(node.PortCapacity) + " dynamic"),
                ("labels", Show.Labels(node.Labels)),
                ("heartbeat", view.LastHeartbeat is null ? "-" : Show.Ago(view.LastHeartbeat, now) + " ago"),
                ("replicas", StatusCommand.Num(view.Replicas)),
            ]));
            if (replicas.Count > 0)
            {
                output.Line("");
                ServiceCommand.WriteReplicas(output, replicas, showService: true);
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    internal static void WriteNodes(CliOutput output, IReadOnlyList<NodeView> nodes)
    {
        if (nodes.Count == 0)
        {
            output.Line("no nodes (an agent registers its node when it starts)");
            return;
        }
        var now = DateTimeOffset.UtcNow;
        var table = CliOutput.Table("NODE", "STATUS", "CPU", "MEMORY", "REPLICAS", "HEARTBEAT", "LABELS");
        foreach (var view in nodes)
        {
            CliOutput.Row(table,
                view.Node.Name,
                Show.NodeStatus(view.Node),
                view.CpuPercent is null ? Show.Cores(view.Node.CpuCores) : $"{Show.Percent(view.CpuPercent)} of {Show.Cores(view.Node.CpuCores)}",
                view.MemoryUsedBytes is null ? Show.Bytes(view.Node.MemoryBytes) : $"{Show.Bytes(view.MemoryUsedBytes)}/{Show.Bytes(view.Node.MemoryBytes)}",
                StatusCommand.Num(view.Replicas),
                view.LastHeartbeat is null ? "-" : Show.Ago(view.LastHeartbeat, now) + " ago",
                Show.Labels(view.Node.Labels));
        }
        output.Write(table);
    }
}
