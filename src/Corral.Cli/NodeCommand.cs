using System.CommandLine;
using Corral.Core;
using Corral.Core.Api;

namespace Corral.Cli;

/// <summary><c>corral node ls|show|drain|undrain|label|rm</c>.</summary>
internal static class NodeCommand
{
    public static Command Create()
    {
        var command = new Command("node", "List, inspect, drain, label and remove nodes.");
        command.Subcommands.Add(List());
        command.Subcommands.Add(ShowNode());
        command.Subcommands.Add(Drain());
        command.Subcommands.Add(Undrain());
        command.Subcommands.Add(Label());
        command.Subcommands.Add(Remove());
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
                ("labels", Show.LabelSources(node)),
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

    private static Argument<string> NameArgument() => new("NAME") { Description = "The node's name." };

    private static Command Drain()
    {
        var name = NameArgument();
        var command = new Command("drain", "Move a node's replicas elsewhere (each replacement healthy before the old one stops), then leave it ineligible.") { name };
        var options = ClientOptions.AddTo(command);
        ClientAction.Set(command, options, async (context, cancellationToken) =>
        {
            var view = await context.Client.DrainNodeAsync(context.Parse.GetValue(name)!, cancellationToken).ConfigureAwait(false);
            return WriteNode(context.Output, view, view.Node.Draining
                ? $"node '{view.Node.Name}' draining: {view.Replicas} replica{(view.Replicas == 1 ? "" : "s")} to move (corral node show {view.Node.Name})"
                : $"node '{view.Node.Name}' drained: no new replicas are placed on it");
        });
        return command;
    }

    private static Command Undrain()
    {
        var name = NameArgument();
        var command = new Command("undrain", "Make a drained or draining node eligible for new replicas again.") { name };
        var options = ClientOptions.AddTo(command);
        ClientAction.Set(command, options, async (context, cancellationToken) =>
        {
            var view = await context.Client.UndrainNodeAsync(context.Parse.GetValue(name)!, cancellationToken).ConfigureAwait(false);
            return WriteNode(context.Output, view, $"node '{view.Node.Name}' eligible for new replicas");
        });
        return command;
    }

    private static Command Label()
    {
        var name = NameArgument();
        var labels = new Argument<string[]>("LABEL") { Description = "key=value; the node's operator labels become exactly these (none clears them); labels its agent reports stay.", Arity = ArgumentArity.ZeroOrMore };
        labels.Validators.Add(result =>
        {
            foreach (var token in result.Tokens)
            {
                if (token.Value.IndexOf('=', StringComparison.Ordinal) <= 0)
                {
                    result.AddError($"'{token.Value}' is not key=value");
                }
            }
        });
        var command = new Command("label", "Set a node's operator labels (used by placement constraints), replacing the operator labels it had; they win over agent labels of the same name and survive agent restarts.") { name, labels };
        var options = ClientOptions.AddTo(command);
        ClientAction.Set(command, options, async (context, cancellationToken) =>
        {
            var map = new SortedDictionary<string, string>(StringComparer.Ordinal);
            foreach (var pair in context.Parse.GetValue(labels) ?? [])
            {
                var at = pair.IndexOf('=', StringComparison.Ordinal);
                map[pair[..at]] = pair[(at + 1)..];
            }
            var view = await context.Client.SetNodeLabelsAsync(context.Parse.GetValue(name)!, map, cancellationToken).ConfigureAwait(false);
            return WriteNode(context.Output, view, $"node '{view.Node.Name}' labels: {Show.LabelSources(view.Node)}");
        });
        return command;
    }

    private static Command Remove()
    {
        var name = NameArgument();
        var command = new Command("rm", "Remove a node (admin); its replicas are lost and replaced elsewhere.") { name };
        command.Aliases.Add("remove");
        var options = ClientOptions.AddTo(command);
        ClientAction.Set(command, options, async (context, cancellationToken) =>
        {
            var node = context.Parse.GetValue(name)!;
            await context.Client.RemoveNodeAsync(node, cancellationToken).ConfigureAwait(false);
            if (!context.Output.Json)
            {
                context.Output.Line($"node '{node}' removed; its replicas are replaced elsewhere");
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static int WriteNode(CliOutput output, NodeView view, string message)
    {
        if (output.Json)
        {
            output.WriteJson(view, CoreJson.Default.NodeView);
        }
        else
        {
            WriteNodes(output, [view]);
            output.Line(message);
        }
        return ExitCodes.Ok;
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
