using System.CommandLine;
using System.Runtime.InteropServices;
using Corral.Agent.Runtime;
using Corral.Core.Tasks;
using Microsoft.Extensions.Logging;

namespace Corral.Cli;

/// <summary>
/// <c>corral agent --data-dir D --tasks FILE</c>: runs the tasks listed in FILE (task id → task spec, JSON) on this
/// node through <c>corral supervisor</c> (started when none answers), re-reading FILE on SIGHUP or when it changes,
/// and writing every replica's status to D/status.json. SIGTERM/SIGINT detach from the tasks, which keep running.
/// </summary>
internal static partial class AgentCommand
{
    public static Command Create()
    {
        var dataDir = new Option<string>("--data-dir") { Description = "The agent's data directory.", Required = true };
        var tasks = new Option<string?>("--tasks") { Description = "JSON file: task id -> task spec (a node without a server)." };
        var socket = new Option<string?>("--supervisor-socket") { Description = "Supervisor socket (default DATA-DIR/supervisor/supervisor.sock)." };
        var ports = new Option<string?>("--ports") { Description = "Port range handed to tasks, FIRST-LAST (default 20000-32767); a node reports its size as its port capacity." };
        var join = AgentJoinOptions.Create();
        var logLevel = new LogLevelOption();
        var command = new Command("agent", "Run this node's tasks: as a node of a cluster (--server and a join token to join: --token-file, $CORRAL_JOIN_TOKEN or --token; then its stored identity), or from a tasks file (--tasks).");
        join.AddTo(command);
        command.Options.Add(dataDir);
        command.Options.Add(tasks);
        command.Options.Add(socket);
        command.Options.Add(ports);
        logLevel.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (await logLevel.ResolveAsync(parse, "corral agent").ConfigureAwait(false) is not { } level)
            {
                return ExitCodes.Usage;
            }
            // The port range serves both modes: a node of a cluster also reports its size as the node's port capacity.
            var (firstPort, lastPort) = (20000, 32767);
            if (parse.GetValue(ports) is { } range)
            {
                var parts = range.Split('-');
                if (parts.Length != 2 || !int.TryParse(parts[0], out firstPort) || !int.TryParse(parts[1], out lastPort)
                    || firstPort < 1 || lastPort > 65535 || lastPort < firstPort)
                {
                    await Console.Error.WriteLineAsync($"corral agent: --ports must be FIRST-LAST within 1-65535, got '{range}'").ConfigureAwait(false);
                    return ExitCodes.Usage;
                }
            }
            if (parse.GetValue(tasks) is null)
            {
                return await RunNodeAsync(parse, join, Path.GetFullPath(parse.GetValue(dataDir)!), parse.GetValue(socket), (firstPort, lastPort), level, cancellationToken).ConfigureAwait(false);
            }
            if (join.IsUsed(parse))
            {
                await Console.Error.WriteLineAsync("corral agent: --tasks runs a node without a server; it cannot be combined with --server, --token, --token-file, --name or --label").ConfigureAwait(false);
                return ExitCodes.Usage;
            }
            // Tasks inherit this process's environment: a join token in it is no business of theirs.
            Environment.SetEnvironmentVariable(JoinTokenOptions.Variable, null);
            var tasksPath = Path.GetFullPath(parse.GetValue(tasks)!);
            var options = new AgentOptions
            {
                FirstPort = firstPort,
                LastPort = lastPort,
                DataDirectory = Path.GetFullPath(parse.GetValue(dataDir)!),
                SupervisorSocket = parse.GetValue(socket) is { } s ? Path.GetFullPath(s) : null,
                CorralCommand = SelfCommand.Get(),
                SupervisorLogLevel = LogLevelOption.NameOf(level),
            };
            IReadOnlyDictionary<string, TaskSpec> desired;
            try
            {
                desired = TasksFile.Load(tasksPath);
            }
            catch (Exception ex) when (ex is FormatException or IOException)
            {
                await Console.Error.WriteLineAsync("corral agent: " + ex.Message).ConfigureAwait(false);
                return 1;
            }

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var reload = new SemaphoreSlim(0);
            using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
            using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
            using var hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => { c.Cancel = true; reload.Release(); });

            using var loggers = ConsoleLogging.Create(level);
            var logger = loggers.CreateLogger(typeof(AgentCommand));
            var runtime = new AgentRuntime(options, TimeProvider.System, loggers);
            await using (runtime.ConfigureAwait(false))
            {
                try
                {
                    await runtime.StartAsync(stop.Token).ConfigureAwait(false);
                    await runtime.ApplyAsync(desired, stop.Token).ConfigureAwait(false);
                    var hello = runtime.Guard.Current;
                    await Console.Out.WriteLineAsync($"corral agent pid {Environment.ProcessId}: {desired.Count} task(s), supervisor pid {hello?.Pid}, status in {runtime.StatusPath}").ConfigureAwait(false);
                    var stamp = Stamp(tasksPath);
                    while (!stop.IsCancellationRequested)
                    {
                        var signalled = await reload.WaitAsync(TimeSpan.FromSeconds(1), stop.Token).ConfigureAwait(false);
                        var now = Stamp(tasksPath);
                        if (!signalled && now == stamp)
                        {
                            continue;
                        }
                        stamp = now;
                        HostLog.TasksFileReloading(logger, tasksPath);
                        try
                        {
                            await runtime.ApplyAsync(TasksFile.Load(tasksPath), stop.Token).ConfigureAwait(false);
                        }
                        catch (Exception ex) when (ex is FormatException or IOException)
                        {
                            HostLog.TasksFileRejected(logger, tasksPath, ex.Message);
                        }
                    }
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                }
            }
            return 0;
        });
        return command;
    }

    private static (DateTime, long) Stamp(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? (info.LastWriteTimeUtc, info.Length) : (DateTime.MinValue, -1);
    }
}
