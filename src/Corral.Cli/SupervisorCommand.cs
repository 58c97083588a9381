using System.CommandLine;
using System.Runtime.InteropServices;
using Corral.Agent.Supervisor;
using Microsoft.Extensions.Logging;

namespace Corral.Cli;

/// <summary><c>corral supervisor</c>: the node's task supervisor, serving its Unix socket until SIGTERM/SIGINT.</summary>
internal static class SupervisorCommand
{
    public static Command Create()
    {
        var dataDir = new Option<string>("--data-dir") { Description = "Directory for the supervisor's state, lock and socket.", Required = true };
        var socket = new Option<string?>("--socket") { Description = "Unix socket path (default DATA-DIR/supervisor.sock)." };
        var logLevel = new LogLevelOption();
        var command = new Command("supervisor", "Run the node's task supervisor (local only, Unix socket API).");
        command.Options.Add(dataDir);
        command.Options.Add(socket);
        logLevel.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (await logLevel.ResolveAsync(parse, "corral supervisor").ConfigureAwait(false) is not { } level)
            {
                return ExitCodes.Usage;
            }
            var options = new SupervisorOptions
            {
                DataDirectory = Path.GetFullPath(parse.GetValue(dataDir)!),
                SocketPath = parse.GetValue(socket) is { } s ? Path.GetFullPath(s) : null,
            };
            using var loggers = ConsoleLogging.Create(level);
            using var supervisor = new NodeSupervisor(options, TimeProvider.System, loggers.CreateLogger<NodeSupervisor>());
            try
            {
                supervisor.Initialize();
            }
            catch (InvalidOperationException ex)
            {
                await Console.Error.WriteLineAsync("corral supervisor: " + ex.Message).ConfigureAwait(false);
                return 1;
            }
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
            {
                context.Cancel = true;
                stop.Cancel();
            });
            using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context =>
            {
                context.Cancel = true;
                stop.Cancel();
            });
            await Console.Out.WriteLineAsync(
                $"corral supervisor pid {supervisor.Hello.Pid} instance {supervisor.Hello.InstanceId} listening on {options.EffectiveSocketPath} (cgroups: {supervisor.Hello.CgroupMode})").ConfigureAwait(false);
            await new SupervisorServer(supervisor).RunAsync(stop.Token).ConfigureAwait(false);
            // Asked to stop: stop every task gracefully rather than leaving them to the parent-death signal.
            using var grace = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            await supervisor.StopAllAsync(grace.Token).ConfigureAwait(false);
            return 0;
        });
        return command;
    }
}
