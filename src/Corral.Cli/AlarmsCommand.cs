using System.CommandLine;
using Corral.Core;
using Corral.Core.Api;

namespace Corral.Cli;

/// <summary><c>corral alarms ls [--all] | ack ID</c>: what the monitor raised, and acknowledging it.</summary>
internal static class AlarmsCommand
{
    public static Command Create()
    {
        var command = new Command("alarms", "List the monitor's alarms and acknowledge them (see docs/alarms.md).");
        command.Subcommands.Add(List());
        command.Subcommands.Add(Ack());
        return command;
    }

    private static Command List()
    {
        var all = new Option<bool>("--all") { Description = "Also show cleared alarms (kept for a week)." };
        var command = new Command("ls", "List active alarms, most severe first.") { all };
        command.Aliases.Add("list");
        var options = ClientOptions.AddTo(command);
        ClientAction.Set(command, options, async (context, cancellationToken) =>
        {
            var alarms = await context.Client.ListAlarmsAsync(context.Parse.GetValue(all), cancellationToken).ConfigureAwait(false);
            if (context.Output.Json)
            {
                context.Output.WriteJson(alarms.ToList(), CoreJson.Default.ListAlarm);
                return ExitCodes.Ok;
            }
            WriteAlarms(context.Output, alarms, context.Parse.GetValue(all));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Ack()
    {
        var id = new Argument<string>("ID") { Description = "The alarm's id (see corral alarms ls)." };
        var command = new Command("ack", "Acknowledge an alarm (operator): it stays listed until its condition clears.") { id };
        var options = ClientOptions.AddTo(command);
        ClientAction.Set(command, options, async (context, cancellationToken) =>
        {
            var alarm = await context.Client.AcknowledgeAlarmAsync(context.Parse.GetValue(id)!, cancellationToken).ConfigureAwait(false);
            if (context.Output.Json)
            {
                context.Output.WriteJson(alarm, CoreJson.Default.Alarm);
                return ExitCodes.Ok;
            }
            context.Output.Line($"alarm {alarm.Id} acknowledged by {alarm.AcknowledgedBy} at {Show.Time(alarm.AcknowledgedAt)}");
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>A table of alarms, or a line saying there are none.</summary>
    internal static void WriteAlarms(CliOutput output, IReadOnlyList<Alarm> alarms, bool all)
    {
        if (alarms.Count == 0)
        {
            output.Line(all ? "no alarms" : "no active alarms");
            return;
        }
        var table = all
            ? CliOutput.Table("ID", "SEVERITY", "SUBJECT", "FIRST SEEN", "LAST SEEN", "ACTIVE", "ACK", "MESSAGE")
            : CliOutput.Table("ID", "SEVERITY", "SUBJECT", "FIRST SEEN", "ACK", "MESSAGE");
        foreach (var alarm in alarms)
        {
            var severity = alarm.Severity.ToString().ToLowerInvariant();
            var ack = alarm.Acknowledged ? alarm.AcknowledgedBy ?? "yes" : "-";
            if (all)
            {
                CliOutput.Row(table, alarm.Id, severity, alarm.Subject, Show.Time(alarm.FirstSeen), Show.Time(alarm.LastSeen), alarm.Active ? "yes" : "cleared", ack, alarm.Message);
            }
            else
            {
                CliOutput.Row(table, alarm.Id, severity, alarm.Subject, Show.Time(alarm.FirstSeen), ack, alarm.Message);
            }
        }
        output.Write(table);
    }
}
