using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Corral.Core;
using Corral.Server;
using Microsoft.Extensions.Logging;

namespace Corral.Cli;

/// <summary><c>corral server init|run|join|leave</c>: create a server's data directory, serve from it, add a server to a managed-etcd cluster or take it out.</summary>
internal static class ServerCommand
{
    public static Command Create()
    {
        var command = new Command("server", "Initialize and run a Corral server (API, agent endpoints, controllers).");
        command.Subcommands.Add(CreateInit());
        command.Subcommands.Add(CreateRun());
        command.Subcommands.Add(ServerJoinCommand.CreateJoin());
        command.Subcommands.Add(ServerJoinCommand.CreateLeave());
        return command;
    }

    private static Command CreateInit()
    {
        var dataDir = new Option<string>("--data-dir") { Description = "Where the server keeps its CA, certificates and store.", Required = true };
        var name = new Option<string>("--name") { Description = "This server's name.", DefaultValueFactory = _ => Environment.MachineName.ToLowerInvariant() };
        var cluster = new Option<string>("--cluster") { Description = "The cluster's name.", DefaultValueFactory = _ => "corral" };
        var port = new Option<int>("--port") { Description = "HTTPS port clients will use.", DefaultValueFactory = _ => ServerRunOptions.DefaultPort };
        var advertise = new Option<string[]>("--advertise") { Description = "Extra IP addresses for the server certificate; the first is the address admin.json names (else 127.0.0.1).", AllowMultipleArgumentsPerToken = true };
        var ha = new Option<bool>("--ha") { Description = "Start and supervise a local etcd member (/usr/bin/etcd) with TLS from a servers-only CA, and store in it; add servers with 'corral server join'." };
        var etcdAddress = new Option<string?>("--etcd-address") { Description = "With --ha: the IP the etcd member's peer and client URLs use (default: the first --advertise, else 127.0.0.1)." };
        var etcdClientPort = new Option<int>("--etcd-client-port") { Description = "With --ha: the etcd member's client port.", DefaultValueFactory = _ => ManagedEtcdConfig.DefaultClientPort };
        var etcdPeerPort = new Option<int>("--etcd-peer-port") { Description = "With --ha: the etcd member's peer port.", DefaultValueFactory = _ => ManagedEtcdConfig.DefaultPeerPort };
        var command = new Command("init", "Create the data directory: cluster CA, server certificate, store, first admin API key. With --store etcd://..., run it on every server against the same etcd: the first creates the cluster, the others join it.");
        var storeOptions = new ServerStoreOptions();
        command.Options.Add(dataDir);
        command.Options.Add(name);
        command.Options.Add(cluster);
        command.Options.Add(port);
        command.Options.Add(advertise);
        command.Options.Add(ha);
        command.Options.Add(etcdAddress);
        command.Options.Add(etcdClientPort);
        command.Options.Add(etcdPeerPort);
        storeOptions.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            StoreConfig? store;
            HaTiming? timing;
            try
            {
                store = storeOptions.Store(parse);
                timing = storeOptions.Timing(parse);
            }
            catch (ArgumentException e)
            {
                await Console.Error.WriteLineAsync("corral server init: " + e.Message).ConfigureAwait(false);
                return ExitCodes.Usage;
            }
            ManagedEtcdConfig? managed = null;
            if (parse.GetValue(ha))
            {
                if (store is not null)
                {
                    await Console.Error.WriteLineAsync("corral server init: --ha runs its own etcd; it cannot be combined with --store").ConfigureAwait(false);
                    return ExitCodes.Usage;
                }
                var address = parse.GetValue(etcdAddress) ?? (parse.GetValue(advertise) ?? []).FirstOrDefault() ?? "127.0.0.1";
                if (!IPAddress.TryParse(address, out _))
                {
                    await Console.Error.WriteLineAsync($"corral server init: --etcd-address '{address}' is not an IP address").ConfigureAwait(false);
                    return ExitCodes.Usage;
                }
                managed = new ManagedEtcdConfig(address, parse.GetValue(etcdClientPort), parse.GetValue(etcdPeerPort), "", "new");
            }
            var addresses = new List<IPAddress>();
            foreach (var text in parse.GetValue(advertise) ?? [])
            {
                if (!IPAddress.TryParse(text, out var address))
                {
                    await Console.Error.WriteLineAsync($"corral server init: --advertise '{text}' is not an IP address").ConfigureAwait(false);
                    return ExitCodes.Usage;
                }
                addresses.Add(address);
            }
            try
            {
                // Init is short and its stdout is read by people and scripts: only what goes wrong is logged.
                using var loggers = ConsoleLogging.Create(LogLevel.Warning);
                var result = await ServerInitializer.InitAsync(
                    new ServerInitOptions(parse.GetValue(dataDir)!, parse.GetValue(name)!, parse.GetValue(cluster)!, addresses, parse.GetValue(port))
                    {
                        Store = store ?? StoreConfig.Sqlite,
                        Timing = timing,
                        ManagedEtcd = managed,
                    },
                    TimeProvider.System, loggers, ct).ConfigureAwait(false);
                Console.WriteLine($"initialized {result.Paths.DataDir}");
                Console.WriteLine($"cluster CA pin: {result.CaPin}");
                if (result.AdminToken is { } admin)
                {
                    Console.WriteLine($"admin API key:  {admin}");
                    Console.WriteLine($"client config:  {result.Paths.AdminClientConfig} (use: export CORRAL_CONFIG={result.Paths.AdminClientConfig})");
                }
                else
                {
                    Console.WriteLine($"joined the existing cluster in {store}: it shares the CA and the API keys of the server that initialized it");
                }
                Console.WriteLine($"next: corral server run --data-dir {result.Paths.DataDir}");
                return ExitCodes.Ok;
            }
            catch (InvalidOperationException e)
            {
                await Console.Error.WriteLineAsync("corral server init: " + e.Message).ConfigureAwait(false);
                return ExitCodes.Conflict;
            }
            catch (Corral.Store.StoreUnavailableException e)
            {
                await Console.Error.WriteLineAsync("corral server init: the store does not answer: " + e.Message).ConfigureAwait(false);
                return ExitCodes.Unavailable;
            }
        });
        return command;
    }

    private static Command CreateRun()
    {
        var dataDir = new Option<string>("--data-dir") { Description = "An initialized server data directory.", Required = true };
        var flags = new ServerRunFlags(includeStore: true);
        var command = new Command("run", "Serve the API and the agent endpoints; campaign for leadership and run the controllers when leader.");
        command.Options.Add(dataDir);
        flags.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var problems = new List<string>();
            if (flags.Parse(parse, parse.GetValue(dataDir)!, problems) is not { } options)
            {
                foreach (var problem in problems)
                {
                    await parse.InvocationConfiguration.Error.WriteLineAsync("corral server run: " + problem).ConfigureAwait(false);
                }
                return ExitCodes.Usage;
            }
            return await RunAsync(options, flags.PortFlag, flags.Level(parse), ct).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>
    /// Runs a server until SIGINT/SIGTERM or <paramref name="cancellationToken"/>, logging Corral's messages from
    /// <paramref name="logLevel"/> on the console; reports a taken port with the flag that changes it.
    /// </summary>
    internal static async Task<int> RunAsync(ServerRunOptions options, string portFlag, LogLevel logLevel, CancellationToken cancellationToken)
    {
        Microsoft.AspNetCore.Builder.WebApplication app;
        try
        {
            app = CorralServer.Build(options, TimeProvider.System, logging => logging.AddCorralConsole(logLevel));
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or Corral.Store.StoreException or IOException)
        {
            await Console.Error.WriteLineAsync("corral server: " + e.Message).ConfigureAwait(false);
            return ExitCodes.Failure;
        }
        await using (app.ConfigureAwait(false))
        {
            try
            {
                await app.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse } || e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                await Console.Error.WriteLineAsync($"corral server: port {options.Port} on {options.Listen} is already in use; choose another with {portFlag} N").ConfigureAwait(false);
                return ExitCodes.Unavailable;
            }
            catch (IOException e)
            {
                // e.g. the virtual IP could not be cleaned off its interface (not root, no iproute2).
                await Console.Error.WriteLineAsync("corral server: " + e.Message).ConfigureAwait(false);
                return ExitCodes.Failure;
            }
            Console.WriteLine($"corral server listening on https://{options.Listen}:{options.Port}");
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
            using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
            await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
            return ExitCodes.Ok;
        }
    }
}
