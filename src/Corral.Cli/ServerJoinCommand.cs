using System.Net;
using System.Net.Http.Json;
using System.CommandLine;
using Corral.Agent.ControlPlane;
using Corral.Core;
using Corral.Core.Api;
using Corral.Core.Security;
using Corral.Server;
using Microsoft.Extensions.Logging;

namespace Corral.Cli;

/// <summary><c>corral server join URL --token-file F</c> and <c>corral server leave</c> (managed etcd).</summary>
internal static class ServerJoinCommand
{
    public static Command CreateJoin()
    {
        var url = new Argument<string>("URL") { Description = "A server of the cluster, https://HOST:PORT." };
        var token = JoinTokenOptions.Create("A join token with role server ('corral node token create --role server')");
        var dataDir = new Option<string>("--data-dir") { Description = "Where this server keeps its CA, certificates and etcd member.", Required = true };
        var name = new Option<string>("--name") { Description = "This server's name.", DefaultValueFactory = _ => Environment.MachineName.ToLowerInvariant() };
        var advertise = new Option<string[]>("--advertise") { Description = "Extra IP addresses for the server certificate.", AllowMultipleArgumentsPerToken = true };
        var etcdAddress = new Option<string?>("--etcd-address") { Description = "The IP this server's etcd member uses for its peer and client URLs (default: the first --advertise, else 127.0.0.1)." };
        var etcdClientPort = new Option<int>("--etcd-client-port") { Description = "The etcd member's client port.", DefaultValueFactory = _ => ManagedEtcdConfig.DefaultClientPort };
        var etcdPeerPort = new Option<int>("--etcd-peer-port") { Description = "The etcd member's peer port.", DefaultValueFactory = _ => ManagedEtcdConfig.DefaultPeerPort };
        var command = new Command("join", "Add this machine as a server of a cluster set up with 'server init --ha': adds an etcd member through the member API, starts it joining, then serves like 'server run' (same serving flags: --listen, --port, --vip, hooks, timing, ...).")
        {
            url, dataDir, name, advertise, etcdAddress, etcdClientPort, etcdPeerPort,
        };
        // Serving flags shared with 'server run' (checked before anything joins); a joining server runs its own managed
        // etcd member, so the --store/--etcd-* connection flags are not offered.
        token.AddTo(command);
        var run = new ServerRunFlags(includeStore: false);
        run.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            if (!Uri.TryCreate(parse.GetValue(url), UriKind.Absolute, out var server) || server.Scheme != Uri.UriSchemeHttps)
            {
                return await FailAsync(parse, $"URL '{parse.GetValue(url)}' must be https://HOST:PORT", ExitCodes.Usage).ConfigureAwait(false);
            }
            var (tokenSource, tokenFailure) = await token.ResolveAsync(parse, "corral server join", parse.InvocationConfiguration.Error).ConfigureAwait(false);
            if (tokenFailure is { } failure)
            {
                return failure;
            }
            if (tokenSource is null)
            {
                return await FailAsync(parse, $"needs a join token with role server: --token-file FILE, ${JoinTokenOptions.Variable} or --token", ExitCodes.Usage).ConfigureAwait(false);
            }
            if (!JoinToken.TryParse(tokenSource.Text, out var joinToken, out var tokenError))
            {
                return await FailAsync(parse, $"{tokenSource.From}: {tokenError}", ExitCodes.Usage).ConfigureAwait(false);
            }
            if (Names.CheckNode(parse.GetValue(name), "server name") is { } nameError)
            {
                return await FailAsync(parse, nameError + (parse.GetResult(name) is null or { Implicit: true } ? " (the host name is the default: give --name)" : ""), ExitCodes.Usage).ConfigureAwait(false);
            }
            var problems = new List<string>();
            if (run.Parse(parse, Path.GetFullPath(parse.GetValue(dataDir)!), problems) is not { } runOptions)
            {
                return await FailAsync(parse, string.Join("\ncorral server join: ", problems), ExitCodes.Usage).ConfigureAwait(false);
            }
            var addresses = new List<IPAddress>();
            foreach (var text in parse.GetValue(advertise) ?? [])
            {
                if (!IPAddress.TryParse(text, out var address))
                {
                    return await FailAsync(parse, $"--advertise '{text}' is not an IP address", ExitCodes.Usage).ConfigureAwait(false);
                }
                addresses.Add(address);
            }
            var etcdIp = parse.GetValue(etcdAddress) ?? addresses.FirstOrDefault()?.ToString() ?? "127.0.0.1";
            if (!IPAddress.TryParse(etcdIp, out _))
            {
                return await FailAsync(parse, $"--etcd-address '{etcdIp}' is not an IP address", ExitCodes.Usage).ConfigureAwait(false);
            }
            var member = new ManagedEtcdConfig(etcdIp, parse.GetValue(etcdClientPort), parse.GetValue(etcdPeerPort), "", "existing");
            var serverName = parse.GetValue(name)!;
            ServerJoinResponse joined;
            try
            {
                using var ca = await NodeJoiner.FetchPinnedCaAsync(server, joinToken.CaPin, ct).ConfigureAwait(false);
                using var http = NodeJoiner.CreatePinnedClient(ca, TimeSpan.FromSeconds(30));
                var request = new ServerJoinRequest(joinToken.ToString(), serverName, member.PeerUrl, member.ClientUrl);
                // A 503 (no quorum for a moment, e.g. just after the previous member was added) is asked again.
                var error = parse.InvocationConfiguration.Error;
                using var response = await NodeJoiner.PostJoinAsync(http, new Uri(server, "v1/join/server"), () => JsonContent.Create(request, CoreJson.Default.ServerJoinRequest),
                    message => error.WriteLine("corral server join: " + message), ct).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode)
                {
                    var problem = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
                    return await FailAsync(parse, $"{server} refused the join ({(int)response.StatusCode}): {problem}", response.StatusCode switch
                    {
                        HttpStatusCode.Unauthorized => ExitCodes.Unauthorized,
                        // No quorum (e.g. a moment after the previous member was added): nothing changed, run it again.
                        HttpStatusCode.ServiceUnavailable => ExitCodes.Unavailable,
                        _ => ExitCodes.Conflict,
                    }).ConfigureAwait(false);
                }
                joined = await response.Content.ReadFromJsonAsync(CoreJson.Default.ServerJoinResponse, ct).ConfigureAwait(false)
                    ?? throw new HttpRequestException("empty answer");
            }
            catch (JoinException e)
            {
                // No status and an inner exception: the server did not answer (as 'corral agent' maps it).
                return await FailAsync(parse, e.Message, e.Status is null && e.InnerException is not null ? ExitCodes.Unavailable : ExitCodes.Failure).ConfigureAwait(false);
            }
            catch (HttpRequestException e)
            {
                return await FailAsync(parse, $"{server} did not answer: {e.Message}", ExitCodes.Unavailable).ConfigureAwait(false);
            }
            ServerPaths paths;
            try
            {
                paths = ServerJoiner.WriteDataDir(parse.GetValue(dataDir)!, serverName, member, addresses, joined, runOptions.Timing, TimeProvider.System);
            }
            catch (InvalidOperationException e)
            {
                return await FailAsync(parse, e.Message, ExitCodes.Conflict).ConfigureAwait(false);
            }
            Console.WriteLine($"joined cluster '{joined.Cluster}' as server '{serverName}'; etcd member added ({joined.EtcdEndpoints.Count} members); data in {paths.DataDir}");
            Console.WriteLine($"starting: later starts are 'corral server run --data-dir {paths.DataDir}'");
            return await ServerCommand.RunAsync(runOptions with { DataDir = paths.DataDir }, run.PortFlag, run.Level(parse), ct).ConfigureAwait(false);
        });
        return command;
    }

    public static Command CreateLeave()
    {
        var dataDir = new Option<string>("--data-dir") { Description = "The data directory of the server that leaves (stop its 'server run' first).", Required = true };
        var command = new Command("leave", "Remove this server's etcd member from the cluster (refused when the rest could not keep a quorum).") { dataDir };
        command.SetAction(async (parse, ct) =>
        {
            try
            {
                using var loggers = ConsoleLogging.Create(LogLevel.Error);
                Console.WriteLine(await ServerLeaver.LeaveAsync(parse.GetValue(dataDir)!, TimeProvider.System, loggers, ct).ConfigureAwait(false));
                return ExitCodes.Ok;
            }
            catch (InvalidOperationException e)
            {
                await Console.Error.WriteLineAsync("corral server leave: refused: " + e.Message).ConfigureAwait(false);
                return ExitCodes.Conflict;
            }
            catch (Corral.Store.StoreException e)
            {
                await Console.Error.WriteLineAsync("corral server leave: the store does not answer: " + e.Message).ConfigureAwait(false);
                return ExitCodes.Unavailable;
            }
        });
        return command;
    }

    private static async Task<int> FailAsync(ParseResult parse, string message, int code)
    {
        await parse.InvocationConfiguration.Error.WriteLineAsync("corral server join: " + message).ConfigureAwait(false);
        return code;
    }
}
