using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Corral.Agent.ControlPlane;
using Corral.Agent.Runtime;
using Corral.Core;
using Corral.Core.Api;
using Corral.Server;
using Microsoft.Extensions.Logging;

namespace Corral.Cli;

/// <summary>
/// <c>corral dev</c>: a one-process cluster on 127.0.0.1: a server on the embedded SQLite store, a supervisor and an
/// agent for this machine, and a sample stack. Ctrl-C stops every task and the supervisor; running it again resumes
/// the same cluster from its data directory.
/// </summary>
internal static class DevCommand
{
    public static Command Create()
    {
        var dataDir = new Option<string>("--data-dir") { Description = "Where the dev cluster lives (default $XDG_DATA_HOME/corral/dev or ~/.local/share/corral/dev)." };
        var port = new Option<int>("--port") { Description = "HTTPS port of the API and dashboard.", DefaultValueFactory = _ => ServerRunOptions.DefaultPort };
        var noSample = new Option<bool>("--no-sample") { Description = "Do not deploy the sample stack." };
        var logLevel = new LogLevelOption();
        var command = new Command("dev", "Run a one-process cluster on 127.0.0.1 with a sample stack (API on https://127.0.0.1:7700).");
        command.Options.Add(dataDir);
        command.Options.Add(port);
        command.Options.Add(noSample);
        logLevel.AddTo(command);
        command.SetAction(async (parse, ct) => await logLevel.ResolveAsync(parse, "corral dev").ConfigureAwait(false) is { } level
            ? await RunAsync(parse.GetValue(dataDir) ?? DefaultDataDir(), parse.GetValue(port), !parse.GetValue(noSample), level, ct).ConfigureAwait(false)
            : ExitCodes.Usage);
        return command;
    }

    internal static string DefaultDataDir()
    {
        var xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        var root = string.IsNullOrEmpty(xdg)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share")
            : xdg;
        return Path.Combine(root, "corral", "dev");
    }

    private static async Task<int> RunAsync(string dataDirOption, int port, bool sample, LogLevel logLevel, CancellationToken cancellationToken)
    {
        var dataDir = Path.GetFullPath(dataDirOption);
        var paths = new ServerPaths(dataDir);
        // One console for the server, the agent and its runtime: their lines interleave in time order.
        using var loggers = ConsoleLogging.Create(logLevel);
        if (!paths.IsInitialized)
        {
            await ServerInitializer.InitAsync(new ServerInitOptions(dataDir, "dev", "dev", [], port), TimeProvider.System, loggers, cancellationToken).ConfigureAwait(false);
            Console.WriteLine($"created a new dev cluster in {dataDir}");
        }
        var client = JsonSerializer.Deserialize(File.ReadAllText(paths.AdminClientConfig), CoreJson.Default.ClientConfig)!;
        if (client.Addresses.FirstOrDefault() != $"https://127.0.0.1:{port}")
        {
            client = client with { Addresses = [$"https://127.0.0.1:{port}"] };
            Server.Security.CertificateAuthority.WritePrivate(paths.AdminClientConfig, JsonSerializer.Serialize(client, CoreJson.Default.ClientConfig));
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });

        Microsoft.AspNetCore.Builder.WebApplication app;
        try
        {
            app = CorralServer.Build(new ServerRunOptions(dataDir, IPAddress.Loopback, port), TimeProvider.System,
                logging => logging.AddCorralConsole(logLevel));
        }
        catch (Exception e) when (e is InvalidOperationException or Corral.Store.StoreException or IOException)
        {
            await Console.Error.WriteLineAsync($"corral dev: {e.Message}").ConfigureAwait(false);
            await Console.Error.WriteLineAsync($"(is another 'corral dev' using {dataDir}? stop it, or pass --data-dir)").ConfigureAwait(false);
            return ExitCodes.Failure;
        }
        await using (app.ConfigureAwait(false))
        {
            try
            {
                await app.StartAsync(stop.Token).ConfigureAwait(false);
            }
            catch (IOException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse } || e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                await Console.Error.WriteLineAsync($"corral dev: port {port} on 127.0.0.1 is already in use; choose another with --port N").ConfigureAwait(false);
                return ExitCodes.Unavailable;
            }

            using var ca = X509Certificate2.CreateFromPem(client.CaCertificatePem);
            // The dev node's identity: a client certificate from the cluster CA, as a joined node would have (mTLS).
            using var authority = Server.Security.CertificateAuthority.Load(paths.CaCertificate, paths.CaKey, TimeProvider.System);
            using var nodeIdentity = authority.IssueLocalNodeIdentity("dev", TimeSpan.FromDays(30));
            int? supervisorPid = null;
            var agentDir = Path.Combine(dataDir, "agent");
            var runtime = new AgentRuntime(
                new AgentOptions { DataDirectory = agentDir, CorralCommand = SelfCommand.Get(), LocalLogCopy = false, SupervisorLogLevel = LogLevelOption.NameOf(logLevel) },
                TimeProvider.System, loggers);
            var connection = new ServerConnection(new ServerConnectionOptions
            {
                Servers = [new Uri($"https://127.0.0.1:{port}")],
                NodeName = "dev",
                ClusterCa = ca,
                ClientCertificate = nodeIdentity,
                Labels = new Dictionary<string, string> { ["env"] = "dev" },
            }, runtime, agentDir, TimeProvider.System, loggers.CreateLogger<ServerConnection>());
            await using (runtime.ConfigureAwait(false))
            await using (connection.ConfigureAwait(false))
            {
                await runtime.StartAsync(stop.Token).ConfigureAwait(false);
                using var agentStop = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
                var agent = Task.Run(() => connection.RunAsync(agentStop.Token), CancellationToken.None);

                if (sample)
                {
                    var stackFile = Path.Combine(dataDir, "sample-stack.yaml");
                    if (!File.Exists(stackFile))
                    {
                        await File.WriteAllTextAsync(stackFile, SampleStack(SelfCommand.Get()), stop.Token).ConfigureAwait(false);
                    }
                    var deployed = await DeploySampleAsync(client, stackFile, stop.Token).ConfigureAwait(false);
                    Console.WriteLine(deployed);
                }
                Console.WriteLine();
                Console.WriteLine($"  API:        https://127.0.0.1:{port}/v1   (OpenAPI: /openapi/v1.json)");
                Console.WriteLine($"  dashboard:  https://127.0.0.1:{port}/ui/   (sign in with the admin key)");
                Console.WriteLine($"  admin key:  {client.Token}");
                Console.WriteLine($"  CLI:        export CORRAL_CONFIG={paths.AdminClientConfig}");
                Console.WriteLine($"  data:       {dataDir}");
                Console.WriteLine();
                Console.WriteLine("Ctrl-C stops the cluster and every task; 'corral dev' again resumes it.");

                try
                {
                    await Task.Delay(Timeout.Infinite, stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }

                Console.WriteLine("stopping: tasks, supervisor, server…");
                await agentStop.CancelAsync().ConfigureAwait(false);
                await agent.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                using var shutdown = new CancellationTokenSource(TimeSpan.FromSeconds(60));
                await runtime.ApplyAsync(new Dictionary<string, Core.Tasks.TaskSpec>(), shutdown.Token).ConfigureAwait(false);
                supervisorPid = runtime.Guard.Current?.Pid;
            }
            // After the runtime is disposed: its guard would otherwise start a new supervisor.
            if (supervisorPid is { } pid)
            {
                StopProcess(pid);
            }
            await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }
        Console.WriteLine("stopped.");
        return ExitCodes.Ok;
    }

    private static void StopProcess(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            process.Kill();
            process.WaitForExit(TimeSpan.FromSeconds(10));
        }
        catch (ArgumentException)
        {
            // Already gone.
        }
        catch (InvalidOperationException)
        {
        }
    }

    /// <summary>Deploys the sample stack through the server's own API, as any client would.</summary>
    private static async Task<string> DeploySampleAsync(ClientConfig config, string stackFile, CancellationToken cancellationToken)
    {
        using var client = new Corral.Client.CorralClient(config);
        var request = new DeployRequest(await File.ReadAllTextAsync(stackFile, cancellationToken).ConfigureAwait(false), stackFile);
        try
        {
            var result = await client.DeployAsync(request, cancellationToken).ConfigureAwait(false);
            return result.Changed
                ? $"deployed the sample stack '{result.Stack}' from {stackFile}: " + string.Join(", ", result.Changes.Select(c => $"{c.Service} ({c.Detail})"))
                : $"sample stack '{result.Stack}' already deployed ({stackFile})";
        }
        catch (Corral.Client.CorralApiException e)
        {
            return $"sample stack not deployed ({stackFile}): {e.Message}";
        }
    }

    /// <summary>Three demo-web replicas with HTTP health checks and a worker, run by this same corral binary.</summary>
    internal static string SampleStack(IReadOnlyList<string> self)
    {
        var command = self[0];
        var prefix = self.Skip(1).Select(a => $"\"{a}\", ").Aggregate("", string.Concat);
        return $$"""
            # The sample stack of corral dev. Edit it and redeploy with: corral deploy -f sample-stack.yaml
            stack: sample
            services:
              web:
                command: {{command}}
                args: [{{prefix}}demo-web, --port, "${PORT}", --name, web]
                replicas: 3
                ports: [http]
                health: { http: /health, interval: 2s, timeout: 1s, retries: 3, start_period: 2s }
                restart: { policy: always, backoff: 1s, max_backoff: 10s }
                resources: { cpu: 0.1, memory: 64M }
              worker:
                command: /bin/sh
                args: ["-c", "i=0; while true; do i=$((i+1)); echo \"worker tick $i\"; sleep 5; done"]
                replicas: 1
                restart: { policy: always }
            """;
    }
}
