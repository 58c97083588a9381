using System.CommandLine;
using Corral.Core;
using Corral.Core.Api;
using Corral.Core.Services;

namespace Corral.Cli;

/// <summary><c>corral svc ls|show|scale|restart|rm</c>.</summary>
internal static class ServiceCommand
{
    public static Command Create()
    {
        var command = new Command("svc", "List, inspect, scale, restart and remove services.");
        command.Aliases.Add("service");
        command.Subcommands.Add(List());
        command.Subcommands.Add(ShowService());
        command.Subcommands.Add(Scale());
        command.Subcommands.Add(Restart());
        command.Subcommands.Add(Remove());
        return command;
    }

    private static Argument<string> NameArgument() => new("NAME") { Description = "The service's name." };

    private static Command List()
    {
        var command = new Command("ls", "List services: desired, running, healthy and pending replicas.");
        command.Aliases.Add("list");
        var options = ClientOptions.AddTo(command);
        ClientAction.Set(command, options, async (context, cancellationToken) =>
        {
            var services = await context.Client.ListServicesAsync(cancellationToken).ConfigureAwait(false);
            var output = context.Output;
            if (output.Json)
            {
                output.WriteJson(services.ToList(), CoreJson.Default.ListServiceView);
                return ExitCodes.Ok;
            }
            if (services.Count == 0)
            {
                output.Line("no services (deploy a stack: corral deploy -f stack.yaml)");
                return ExitCodes.Ok;
            }
            var table = CliOutput.Table("SERVICE", "STACK", "MODE", "DESIRED", "RUNNING", "HEALTHY", "PENDING", "VERSION");
            foreach (var service in services)
            {
                CliOutput.Row(table, service.Spec.Name, service.Spec.Stack, Show.Lower(service.Spec.Mode),
                    StatusCommand.Num(service.Desired), StatusCommand.Num(service.Running), StatusCommand.Num(service.Healthy),
                    StatusCommand.Num(service.Pending), service.Version);
            }
            output.Write(table);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command ShowService()
    {
        var name = NameArgument();
        var command = new Command("show", "Show one service: its spec and every replica with its node, state and reason.") { name };
        var options = ClientOptions.AddTo(command);
        ClientAction.Set(command, options, async (context, cancellationToken) =>
        {
            var view = await context.Client.GetServiceAsync(context.Parse.GetValue(name)!, cancellationToken).ConfigureAwait(false);
            var output = context.Output;
            if (output.Json)
            {
                output.WriteJson(view, CoreJson.Default.ServiceView);
                return ExitCodes.Ok;
            }
            var spec = view.Spec;
            var task = spec.Task;
            output.Write(CliOutput.Details(
            [
                ("name", spec.Name),
                ("stack", spec.Stack),
                ("version", view.Version),
                ("mode", Show.Lower(spec.Mode)),
                ("replicas", $"{view.Desired} desired, {view.Running} running, {view.Healthy} healthy, {view.Pending} pending"),
                ("command", string.Join(' ', new[] { task.Command }.Concat(task.Args))),
                ("ports", task.Ports.Count == 0 ? "-" : string.Join(", ", task.Ports)),
                ("health", task.Health is { } h ? $"{Show.Lower(h.Kind)} {h.Path ?? string.Join(' ', h.Command)} every {Durations.Format(h.Interval)}".TrimEnd() : "-"),
                ("placement", Placement(spec.Placement)),
                ("eviction", Durations.Format(spec.EvictionTimeout)),
            ]));
            output.Line("");
            if (view.Replicas.Count == 0)
            {
                output.Line("no replicas yet");
            }
            else
            {
                WriteReplicas(output, view.Replicas, showService: false);
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Scale()
    {
        var name = NameArgument();
        var replicas = new Argument<int>("N") { Description = "The number of replicas wanted." };
        replicas.Validators.Add(result =>
        {
            // GetValueOrDefault throws for a token that is not a number; the parser reports that one itself.
            if (result.Tokens.Count == 1 && int.TryParse(result.Tokens[0].Value, System.Globalization.CultureInfo.InvariantCulture, out var value) && value < 0)
            {
                result.AddError("N must be 0 or more");
            }
        });
        var command = new Command("scale", "Set how many replicas of a service run (newest are stopped first when scaling down).") { name, replicas };
        var options = ClientOptions.AddTo(command);
        ClientAction.Set(command, options, async (context, cancellationToken) =>
        {
            var view = await context.Client.ScaleAsync(context.Parse.GetValue(name)!, context.Parse.GetValue(replicas), cancellationToken).ConfigureAwait(false);
            if (context.Output.Json)
            {
                context.Output.WriteJson(view, CoreJson.Default.ServiceView);
            }
            else
            {
                context.Output.Line($"service '{view.Spec.Name}' scaled to {view.Desired} replica{(view.Desired == 1 ? "" : "s")} ({view.Running} running, {view.Healthy} healthy now)");
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Restart()
    {
        var name = NameArgument();
        var command = new Command("restart", "Replace every replica of a service, one at a time, each healthy before the next.") { name };
        var options = ClientOptions.AddTo(command);
        ClientAction.Set(command, options, async (context, cancellationToken) =>
        {
            var view = await context.Client.RestartAsync(context.Parse.GetValue(name)!, cancellationToken).ConfigureAwait(false);
            if (context.Output.Json)
            {
                context.Output.WriteJson(view, CoreJson.Default.ServiceView);
            }
            else
            {
                context.Output.Line($"service '{view.Spec.Name}' restarting as version {view.Version}: replicas are replaced one at a time");
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Remove()
    {
        var name = NameArgument();
        var command = new Command("rm", "Remove a service; its replicas stop.") { name };
        command.Aliases.Add("remove");
        var options = ClientOptions.AddTo(command);
        ClientAction.Set(command, options, async (context, cancellationToken) =>
        {
            var service = context.Parse.GetValue(name)!;
            await context.Client.RemoveServiceAsync(service, cancellationToken).ConfigureAwait(false);
            if (!context.Output.Json)
            {
                context.Output.Line($"service '{service}' removed; its replicas stop");
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static string Placement(PlacementSpec placement)
    {
        var parts = new List<string>();
        if (placement.Node is { } node)
        {
            parts.Add("node=" + node);
        }
        if (placement.Labels.Count > 0)
        {
            parts.Add("labels " + Show.Labels(placement.Labels));
        }
        if (placement.MaxPerNode is { } max)
        {
            parts.Add($"max {max} per node");
        }
        return parts.Count == 0 ? "anywhere" : string.Join(", ", parts);
    }

    internal static void WriteReplicas(CliOutput output, IReadOnlyList<ReplicaView> replicas, bool showService)
    {
        var now = DateTimeOffset.UtcNow;
        var table = showService
            ? CliOutput.Table("REPLICA", "SERVICE", "NODE", "STATE", "VERSION", "PID", "SINCE", "REASON")
            : CliOutput.Table("REPLICA", "NODE", "STATE", "VERSION", "PID", "SINCE", "REASON");
        foreach (var view in replicas)
        {
            var r = view.Replica;
            string?[] cells =
            [
                r.Id, r.Node ?? "-", Show.ReplicaState(r), r.Version,
                view.Pid?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-",
                view.StateSince is null ? "-" : Show.Ago(view.StateSince, now), r.Reason.Length == 0 ? "-" : r.Reason,
            ];
            CliOutput.Row(table, showService ? [cells[0], r.Service, .. cells[1..]] : cells);
        }
        output.Write(table);
    }
}
