using System.CommandLine;
using System.Runtime.InteropServices;
using System.Security.Cryptography.X509Certificates;
using Corral.Agent.ControlPlane;
using Corral.Agent.Runtime;
using Corral.Core;
using Corral.Core.Security;
using Microsoft.Extensions.Logging;

namespace Corral.Cli;

internal static partial class AgentCommand
{
    /// <summary>
    /// Runs this machine as a node of a cluster: joins with a join token (<c>--token-file</c>, <c>$CORRAL_JOIN_TOKEN</c> or <c>--token</c>) on the first start (storing the identity and
    /// labels in the data dir; <c>--label</c> on a later start replaces the stored labels), then registers, heartbeats and runs its assignments until SIGTERM/SIGINT (replicas keep running).
    /// </summary>
    private static async Task<int> RunNodeAsync(ParseResult parse, AgentJoinOptions join, string dataDir, string? socket, (int First, int Last) ports, LogLevel level, CancellationToken cancellationToken)
    {
        // --server takes one server or several, comma-separated: the agent joins through the first and fails over among all.
        List<Uri>? servers = null;
        if (parse.GetValue(join.Server) is { } serverText)
        {
            servers = [];
            foreach (var part in serverText.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (!Uri.TryCreate(part, UriKind.Absolute, out var one) || one.Scheme != Uri.UriSchemeHttps)
                {
                    await Console.Error.WriteLineAsync($"corral agent: --server must be https://HOST:PORT URLs, comma-separated; got '{part}'").ConfigureAwait(false);
                    return ExitCodes.Usage;
                }
                servers.Add(one);
            }
        }
        var server = servers?.FirstOrDefault();
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var label in parse.GetValue(join.Labels) ?? [])
        {
            var parts = label.Split('=', 2);
            if (parts.Length != 2 || parts[0].Length == 0)
            {
                await Console.Error.WriteLineAsync($"corral agent: --label must be KEY=VALUE, got '{label}'").ConfigureAwait(false);
                return ExitCodes.Usage;
            }
            if ((Names.CheckLabel(parts[0], "label name") ?? Names.CheckLabel(parts[1], "label value")) is { } labelError)
            {
                await Console.Error.WriteLineAsync($"corral agent: --label {Names.Quote(label)}: {labelError}").ConfigureAwait(false);
                return ExitCodes.Usage;
            }
            labels[parts[0]] = parts[1];
        }
        var (tokenSource, tokenFailure) = await join.Token.ResolveAsync(parse, "corral agent", Console.Error).ConfigureAwait(false);
        if (tokenFailure is { } failure)
        {
            return failure;
        }
        if (tokenSource is not null && tokenSource.From.StartsWith('$') && NodeIdentity.Exists(dataDir))
        {
            // The environment is ambient (a unit file keeps it for every start): once joined, the stored identity is used.
            await Console.Error.WriteLineAsync($"corral agent: {JoinTokenOptions.Variable} is ignored: {dataDir} has joined already").ConfigureAwait(false);
            tokenSource = null;
        }

        Directory.CreateDirectory(dataDir);
        using var loggers = ConsoleLogging.Create(level);
        var logger = loggers.CreateLogger(typeof(AgentCommand));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });

        NodeIdentity identity;
        if (tokenSource is not null)
        {
            if (NodeIdentity.Exists(dataDir))
            {
                await Console.Error.WriteLineAsync($"corral agent: {dataDir} has already joined a cluster (as node '{NodeIdentity.Load(dataDir).NodeName}'); start without {tokenSource.From}, or use a new data dir to join again").ConfigureAwait(false);
                return ExitCodes.Conflict;
            }
            if (server is null)
            {
                await Console.Error.WriteLineAsync($"corral agent: joining needs --server https://HOST:PORT as well as the join token ({tokenSource.From})").ConfigureAwait(false);
                return ExitCodes.Usage;
            }
            if (!JoinToken.TryParse(tokenSource.Text, out var token, out var tokenError))
            {
                await Console.Error.WriteLineAsync($"corral agent: {tokenSource.From}: {tokenError}").ConfigureAwait(false);
                return ExitCodes.Usage;
            }
            var name = parse.GetValue(join.Name) ?? Environment.MachineName.ToLowerInvariant();
            if (Names.CheckNode(name) is { } nameError)
            {
                await Console.Error.WriteLineAsync($"corral agent: {nameError}{(parse.GetValue(join.Name) is null ? " (the host name is the default: give --name)" : "")}").ConfigureAwait(false);
                return ExitCodes.Usage;
            }
            try
            {
                identity = await NodeJoiner.JoinAsync(server, token, name, labels, stop.Token, message => HostLog.JoinProgress(logger, message)).ConfigureAwait(false);
            }
            catch (JoinException e)
            {
                await Console.Error.WriteLineAsync("corral agent: cannot join: " + e.Message).ConfigureAwait(false);
                return e.Status switch
                {
                    401 or 403 => ExitCodes.Unauthorized,
                    409 => ExitCodes.Conflict,
                    503 => ExitCodes.Unavailable,
                    400 => ExitCodes.Failure,
                    null when e.InnerException is not null => ExitCodes.Unavailable,
                    _ => ExitCodes.Failure,
                };
            }
            catch (HttpRequestException e)
            {
                await Console.Error.WriteLineAsync($"corral agent: cannot join: {server} did not answer: {e.Message}").ConfigureAwait(false);
                return ExitCodes.Unavailable;
            }
            identity = identity with { Servers = servers! };
            identity.Save(dataDir);
            await Console.Out.WriteLineAsync($"corral agent: joined as node '{identity.NodeName}'; identity stored in {NodeIdentity.DirectoryOf(dataDir)}").ConfigureAwait(false);
        }
        else if (NodeIdentity.Exists(dataDir))
        {
            try
            {
                identity = NodeIdentity.Load(dataDir);
                if (labels.Count > 0)
                {
                    // Labels given on a later start replace the stored ones, for this and every later start.
                    identity = identity with { Labels = labels };
                    identity.Save(dataDir);
                }
            }
            catch (IOException e)
            {
                await Console.Error.WriteLineAsync("corral agent: cannot read the stored identity: " + e.Message).ConfigureAwait(false);
                return ExitCodes.Failure;
            }
        }
        else
        {
            await Console.Error.WriteLineAsync($"corral agent: {dataDir} has not joined a cluster: give --server https://HOST:PORT and a join token (--token-file FILE, ${JoinTokenOptions.Variable} or --token; see 'corral node token create'), or --tasks FILE").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        using var ca = identity.ClusterCa();
        using var certificate = identity.ClientCertificate();
        var runtime = new AgentRuntime(new AgentOptions
        {
            DataDirectory = dataDir,
            SupervisorSocket = socket is null ? null : Path.GetFullPath(socket),
            CorralCommand = SelfCommand.Get(),
            LocalLogCopy = false,
            SupervisorLogLevel = LogLevelOption.NameOf(level),
            FirstPort = ports.First,
            LastPort = ports.Last,
        }, TimeProvider.System, loggers);
        var connection = new ServerConnection(new ServerConnectionOptions
        {
            Servers = servers is { Count: > 0 } ? servers : identity.Servers,
            NodeName = identity.NodeName,
            ClusterCa = ca,
            ClientCertificate = certificate,
            Labels = identity.Labels,
            PortCapacity = ports.Last - ports.First + 1,
        }, runtime, dataDir, TimeProvider.System, loggers.CreateLogger<ServerConnection>());
        connection.CertificateRenewed += renewed => HostLog.CertificateRenewed(logger, renewed.SerialNumber, renewed.NotAfter.ToUniversalTime(), NodeIdentity.DirectoryOf(dataDir));
        await using (runtime.ConfigureAwait(false))
        await using (connection.ConfigureAwait(false))
        {
            try
            {
                await runtime.StartAsync(stop.Token).ConfigureAwait(false);
                await Console.Out.WriteLineAsync($"corral agent pid {Environment.ProcessId}: node '{identity.NodeName}', server {connection.CurrentServer}, supervisor pid {runtime.Guard.Current?.Pid}").ConfigureAwait(false);
                await connection.RunAsync(stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
            catch (NodeRevokedException e)
            {
                // Removed from the cluster: its replicas were declared lost and replaced elsewhere, so they stop here too.
                await runtime.ApplyAsync(new Dictionary<string, Corral.Core.Tasks.TaskSpec>(), CancellationToken.None).ConfigureAwait(false);
                var retired = NodeIdentity.Retire(dataDir, DateTimeOffset.UtcNow);
                await Console.Error.WriteLineAsync($"corral agent: node '{identity.NodeName}' was removed from the cluster: {e.Message}. Its replicas are stopped; its identity moved to {retired}. Start again with --server and a new --token to join again.").ConfigureAwait(false);
                return ExitCodes.Unauthorized;
            }
        }
        return ExitCodes.Ok;
    }
}
