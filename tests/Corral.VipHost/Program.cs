using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Corral.Server;
using Corral.Server.Leadership;
using Corral.Server.State;
using Corral.Server.Vip;
using Corral.Store.Etcd;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// corral-viphost answer --port P --name N
//   Accepts TCP connections on 0.0.0.0:P and answers each with "N\n" (the failover probes' server).
// corral-viphost vip --name N --etcd URL[,URL...] --vip CIDR --vip-interface IF [--timing default|fast] [--ttl S]
//                    [--answer-port P] [--on-leader F] [--on-follower F] [--on-fault F]
//   Runs the real control-plane composition (LeaderElector, controllers including the etcd leader placement,
//   VipManager) over a real EtcdStore until SIGTERM, and optionally the answer server too. The leadership timing is
//   HaTiming's profile (default 'default'); --ttl overrides its lease TTL (renew and margin then TTL/5). The etcd
//   member local to this host is found by this host's addresses, as for an external etcd.
var options = ParseArgs(args);
if (args.Length == 0 || !options.TryGetValue("name", out var name))
{
    await Console.Error.WriteLineAsync("usage: corral-viphost answer|vip --name N ...").ConfigureAwait(false);
    return 2;
}
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
AppDomain.CurrentDomain.ProcessExit += (_, _) => stop.Cancel();
var answer = options.TryGetValue("answer-port", out var p) || options.TryGetValue("port", out p)
    ? AnswerAsync(int.Parse(p, CultureInfo.InvariantCulture), name, stop.Token)
    : Task.CompletedTask;
if (args[0] == "answer")
{
    await answer.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    return 0;
}

var cidr = VipOptions.ParseCidr(options["vip"], out var error) ?? throw new ArgumentException(error);
var builder = Host.CreateApplicationBuilder();
builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole(o =>
{
    o.SingleLine = true;
    o.UseUtcTimestamp = true;
    o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
});
builder.Logging.SetMinimumLevel(LogLevel.Information);
builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddEtcdStore(new EtcdStoreOptions { Endpoints = options["etcd"].Split(',') });
builder.Services.AddSingleton(sp => new ClusterState(sp.GetRequiredService<Corral.Store.IClusterStore>(), TimeProvider.System));
builder.Services.AddCorralVip(new VipOptions
{
    Address = cidr.Address,
    PrefixLength = cidr.PrefixLength,
    Interface = options["vip-interface"],
    OnLeader = options.GetValueOrDefault("on-leader"),
    OnFollower = options.GetValueOrDefault("on-follower"),
    OnFault = options.GetValueOrDefault("on-fault"),
});
var timing = options.GetValueOrDefault("timing", "default") switch
{
    "default" => HaTiming.Default,
    "fast" => HaTiming.Fast,
    var other => throw new ArgumentException($"--timing '{other}': expected 'default' or 'fast'"),
};
var controlPlane = new ControlPlaneOptions { ServerName = name }.WithTiming(timing);
if (options.TryGetValue("ttl", out var ttl))
{
    controlPlane = controlPlane with { ElectionTtl = TimeSpan.FromSeconds(int.Parse(ttl, CultureInfo.InvariantCulture)), RenewInterval = null, StepDownMargin = null };
}
builder.Services.AddCorralControlPlane(controlPlane);
using var host = builder.Build();
await host.RunAsync(stop.Token).ConfigureAwait(false);
await answer.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
return 0;

static Dictionary<string, string> ParseArgs(string[] args)
{
    var result = new Dictionary<string, string>(StringComparer.Ordinal);
    for (var i = 1; i + 1 < args.Length; i += 2)
    {
        result[args[i].TrimStart('-')] = args[i + 1];
    }
    return result;
}

static async Task AnswerAsync(int port, string name, CancellationToken cancellationToken)
{
    using var listener = new TcpListener(IPAddress.Any, port);
    listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
    listener.Start(512);
    var reply = Encoding.ASCII.GetBytes(name + "\n");
    while (!cancellationToken.IsCancellationRequested)
    {
        Socket client;
        try
        {
            client = await listener.AcceptSocketAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        using (client)
        {
            try
            {
                client.Send(reply);
                client.Shutdown(SocketShutdown.Both);
            }
            catch (SocketException)
            {
            }
        }
    }
}
