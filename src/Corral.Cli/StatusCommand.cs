using System.CommandLine;
using Corral.Core;

namespace Corral.Cli;

/// <summary><c>corral status</c>: the cluster at a glance: store, leader, health score, active alarms, nodes and services.</summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var command = new Command("status", "Show the cluster: version, store, leader, health score, active alarms, nodes and services.");
        var options = ClientOptions.AddTo(command);
        ClientAction.Set(command, options, async (context, cancellationToken) =>
        {
            var status = await context.Client.GetStatusAsync(cancellationToken).ConfigureAwait(false);
            var alarms = await context.Client.ListAlarmsAsync(all: false, cancellationToken).ConfigureAwait(false);
            var output = context.Output;
            if (output.Json)
            {
                output.WriteJson(status, CoreJson.Default.ClusterStatus);
                return ExitCodes.Ok;
            }
            output.Write(CliOutput.Details(
            [
                ("server", context.Client.PreferredAddress.GetLeftPart(UriPartial.Authority)),
                ("version", status.Version),
                ("store", $"{status.StoreKind} ({(status.StoreHealthy ? "healthy" : "NO QUORUM")})"),
                ("members", $"{status.StoreMembers.Count(m => m.Healthy)} healthy of {status.StoreMembers.Count}; majority {Num(status.StoreMajority)}, tolerates {Num(status.StoreFaultTolerance)} failure(s)"),
                ("leader", status.Leader ?? "none"),
                ("revision", status.Revision.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                ("nodes", $"{status.Nodes.Count(n => n.Node.Status == Core.Cluster.NodeStatus.Ready)} ready of {status.Nodes.Count}"),
                ("services", $"{status.Services.Count(s => s.Healthy >= s.Desired)} converged of {status.Services.Count}"),
                ("health", status.Health is { } health ? $"{Num(health.Score)}/100" : "not computed yet (no leader monitor pass)"),
                ("alarms", status.Alarms is { } counts ? $"{Num(counts.Critical)} critical, {Num(counts.Warning)} warning, {Num(counts.Info)} info" : "-"),
            ]));
            if (status.StoreKind == "etcd" && status.StoreMembers.Count > 0)
            {
                output.Line("");
                var members = CliOutput.Table("MEMBER", "ENDPOINT", "HEALTH", "ROLE");
                foreach (var member in status.StoreMembers)
                {
                    CliOutput.Row(members, member.Name, member.Endpoint, member.Healthy ? "healthy" : member.Error ?? "unhealthy", member.IsLeader ? "leader" : "follower");
                }
                output.Write(members);
            }
            output.Line("");
            AlarmsCommand.WriteAlarms(output, alarms, all: false);
            output.Line("");
            NodeCommand.WriteNodes(output, status.Nodes);
            output.Line("");
            if (status.Services.Count == 0)
            {
                output.Line("no services (deploy a stack: corral deploy -f stack.yaml)");
            }
            else
            {
                var table = CliOutput.Table("SERVICE", "VERSION", "DESIRED", "RUNNING", "HEALTHY");
                foreach (var service in status.Services)
                {
                    CliOutput.Row(table, service.Name, service.Version, Num(service.Desired), Num(service.Running), Num(service.Healthy));
                }
                output.Write(table);
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    internal static string Num(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
