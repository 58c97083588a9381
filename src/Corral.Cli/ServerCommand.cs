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
        var advertise = new Option<string[]>("--advertise") { Description = "Extra IP addresses for the server certificate.", AllowMultipleArgumentsPerToken = true };
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
                using var loggers = LoggerFactory.Create(b => b.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning));
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
        var listen = new Option<string>("--listen") { Description = "Address to bind.", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "HTTPS port.", DefaultValueFactory = _ => ServerRunOptions.DefaultPort };
        var logMaxSize = new Option<string>("--log-max-size") { Description = "Most replica log data the cluster keeps (oldest goes first), e.g. 64M.", DefaultValueFactory = _ => "64M" };
        var logMaxAge = new Option<string>("--log-max-age") { Description = "Replica log lines older than this are deleted, e.g. 7d.", DefaultValueFactory = _ => "7d" };
        var heartbeatGrace = new Option<string>("--heartbeat-grace") { Description = "Mark a node down after this long without a heartbeat (1s to 5m).", DefaultValueFactory = _ => "5s" };
        var certValidity = new Option<string?>("--node-cert-validity") { Description = "How long node certificates issued at join and renewal are valid (default 365d, at least 10s); agents renew after two thirds of it." };
        var vip = new Option<string>("--vip") { Description = "Virtual IP (CIDR, e.g. 10.0.0.100/24) this server holds while it is the leader." };
        var vipInterface = new Option<string>("--vip-interface") { Description = "Network interface that carries the virtual IP (e.g. eth0); required with --vip." };
        var onLeader = new Option<string>("--vip-on-leader") { Description = "Executable run when this server becomes leader and holds the VIP (env CORRAL_ROLE, CORRAL_VIP, CORRAL_REASON, ...)." };
        var onFollower = new Option<string>("--vip-on-follower") { Description = "Executable run when this server starts as or goes back to being a follower." };
        var onFault = new Option<string>("--vip-on-fault") { Description = "Executable run when this server lost leadership because the store was unreachable or the VIP could not be added." };
        var hookTimeout = new Option<double>("--vip-hook-timeout") { Description = "Seconds a notify hook may run before it is killed.", DefaultValueFactory = _ => 10 };
        var command = new Command("run", "Serve the API and the agent endpoints; campaign for leadership and run the controllers when leader.");
        var storeOptions = new ServerStoreOptions();
        command.Options.Add(dataDir);
        command.Options.Add(listen);
        command.Options.Add(port);
        command.Options.Add(logMaxSize);
        command.Options.Add(logMaxAge);
        command.Options.Add(heartbeatGrace);
        command.Options.Add(certValidity);
        command.Options.Add(vip);
        command.Options.Add(vipInterface);
        command.Options.Add(onLeader);
        command.Options.Add(onFollower);
        command.Options.Add(onFault);
        command.Options.Add(hookTimeout);
        storeOptions.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            if (!IPAddress.TryParse(parse.GetValue(listen), out var address))
            {
                await Console.Error.WriteLineAsync($"corral server run: --listen '{parse.GetValue(listen)}' is not an IP address").ConfigureAwait(false);
                return ExitCodes.Usage;
            }
            var problems = new List<string>();
            var vipOptions = ParseVip(parse.GetValue(vip), parse.GetValue(vipInterface), parse.GetValue(onLeader), parse.GetValue(onFollower), parse.GetValue(onFault), parse.GetValue(hookTimeout), problems);
            var graceText = parse.GetValue(heartbeatGrace)!;
            if (!Durations.TryParse(graceText, out var grace, out var graceError) || grace < TimeSpan.FromSeconds(1) || grace > TimeSpan.FromMinutes(5))
            {
                problems.Add($"--heartbeat-grace '{graceText}' must be a duration from 1s to 5m{(graceError.Length == 0 ? "" : ": " + graceError)}");
            }
            if (!Corral.Core.ByteSizes.TryParse(parse.GetValue(logMaxSize), out var maxBytes, out var sizeError))
            {
                problems.Add($"--log-max-size '{parse.GetValue(logMaxSize)}': {sizeError}");
            }
            if (!Corral.Core.Durations.TryParse(parse.GetValue(logMaxAge), out var maxAge, out var ageError))
            {
                problems.Add($"--log-max-age '{parse.GetValue(logMaxAge)}': {ageError}");
            }
            var defaults = new Corral.Server.Logs.LogRetentionOptions();
            var retention = defaults with { MaxBytes = sizeError.Length == 0 ? maxBytes : defaults.MaxBytes, MaxAge = ageError.Length == 0 ? maxAge : defaults.MaxAge };
            problems.AddRange(retention.Validate().Select(e => e.Replace("MaxBytes", "--log-max-size", StringComparison.Ordinal).Replace("MaxAge", "--log-max-age", StringComparison.Ordinal)));
            var validity = Corral.Server.Security.NodeCertificates.DefaultValidity;
            if (parse.GetValue(certValidity) is { } validityText
                && (!Corral.Core.Durations.TryParse(validityText, out validity, out _) || validity < Corral.Server.Security.NodeCertificates.MinValidity))
            {
                problems.Add($"--node-cert-validity must be a duration of at least 10s (e.g. 30d), got '{validityText}'");
            }
            StoreConfig? store = null;
            HaTiming? timing = null;
            try
            {
                store = storeOptions.Store(parse);
                timing = storeOptions.Timing(parse);
            }
            catch (ArgumentException e)
            {
                problems.Add(e.Message);
            }
            if (problems.Count > 0)
            {
                foreach (var problem in problems)
                {
                    await parse.InvocationConfiguration.Error.WriteLineAsync("corral server run: " + problem).ConfigureAwait(false);
                }
                return ExitCodes.Usage;
            }
            return await RunAsync(new ServerRunOptions(parse.GetValue(dataDir)!, address, parse.GetValue(port)) { LogRetention = retention, HeartbeatGrace = grace, NodeCertificateValidity = validity, Vip = vipOptions, Store = store, Timing = timing }, "--port", ct).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>The virtual IP options, or null without --vip; every problem goes to <paramref name="errors"/>.</summary>
    internal static Corral.Server.Vip.VipOptions? ParseVip(string? vip, string? vipInterface, string? onLeader, string? onFollower, string? onFault, double hookTimeoutSeconds, List<string> errors)
    {
        if (vip is null)
        {
            if (vipInterface is not null || onLeader is not null || onFollower is not null || onFault is not null)
            {
                errors.Add("--vip-interface and the --vip-on-* hooks need --vip");
            }
            return null;
        }
        if (Corral.Server.Vip.VipOptions.ParseCidr(vip, out var error) is not { } cidr)
        {
            errors.Add("--vip " + error);
            return null;
        }
        if (vipInterface is null)
        {
            errors.Add("--vip needs --vip-interface (the network interface that carries it, e.g. eth0)");
            return null;
        }
        if (!double.IsFinite(hookTimeoutSeconds) || hookTimeoutSeconds <= 0 || hookTimeoutSeconds > 300)
        {
            errors.Add($"--vip-hook-timeout {hookTimeoutSeconds} must be from 0.1 to 300 seconds");
            return null;
        }
        var options = new Corral.Server.Vip.VipOptions
        {
            Address = cidr.Address,
            PrefixLength = cidr.PrefixLength,
            Interface = vipInterface,
            OnLeader = onLeader is null ? null : Path.GetFullPath(onLeader),
            OnFollower = onFollower is null ? null : Path.GetFullPath(onFollower),
            OnFault = onFault is null ? null : Path.GetFullPath(onFault),
            HookTimeout = TimeSpan.FromSeconds(hookTimeoutSeconds),
        };
        errors.AddRange(options.Validate());
        return errors.Count == 0 ? options : null;
    }

    /// <summary>Runs a server until SIGINT/SIGTERM or <paramref name="cancellationToken"/>; reports a taken port with the flag that changes it.</summary>
    internal static async Task<int> RunAsync(ServerRunOptions options, string portFlag, CancellationToken cancellationToken)
    {
        Microsoft.AspNetCore.Builder.WebApplication app;
        try
        {
            app = CorralServer.Build(options, TimeProvider.System, logging => logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning));
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
