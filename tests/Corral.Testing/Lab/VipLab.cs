using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace Corral.Testing.Lab;

/// <summary>
/// The virtual IP lab: hosts h1..hN run an etcd member each and a <c>corral-viphost</c> (the real LeaderElector,
/// controllers and VipManager over a real EtcdStore, plus a TCP answer server); the last host is the client. The VIP
/// is <see cref="Vip"/> on eth0. Dispose removes everything (also on failure).
/// </summary>
public sealed partial class VipLab : IAsyncDisposable
{
    /// <summary>The virtual IP every lab uses (its own bridge: labs never see each other).</summary>
    public static readonly IPAddress Vip = IPAddress.Parse("10.77.0.100");

    /// <summary>The TCP port every server host answers on with its name.</summary>
    public const int AnswerPort = 7000;

    private readonly TempDirectory _logs = new("corral-viplab");

    private VipLab(LabNetwork network, int servers)
    {
        Network = network;
        Servers = [.. network.Hosts.Take(servers)];
        Client = network.Hosts[^1];
    }

    public LabNetwork Network { get; }

    /// <summary>The hosts that run an etcd member and a VIP host.</summary>
    public IReadOnlyList<LabHost> Servers { get; }

    /// <summary>The host clients and probes run from.</summary>
    public LabHost Client { get; }

    public LabEtcd Etcd { get; private set; } = null!;

    /// <summary>The HaTiming profile ('default' or 'fast'): the etcd members' heartbeat and election timeout, and the VIP hosts' <c>--timing</c>.</summary>
    public string Timing { get; init; } = "default";

    /// <summary>Extra arguments for every <c>corral-viphost vip</c> (e.g. hooks).</summary>
    public IReadOnlyList<string> ExtraArgs { get; init; } = [];

    /// <summary>corral-viphost.dll beside the running assembly (the project references tests/Corral.VipHost).</summary>
    public static string VipHostDll
    {
        get
        {
            var path = Path.Combine(AppContext.BaseDirectory, "corral-viphost.dll");
            if (!File.Exists(path))
            {
                throw new InvalidOperationException($"{path} not found: reference tests/Corral.VipHost and build");
            }
            return path;
        }
    }

    /// <summary>
    /// Creates the network (servers + 1 client host), starts etcd on the servers with <paramref name="timing"/>'s etcd
    /// heartbeat and election timeout (HaTiming profile 'default' or 'fast') and waits for it to be healthy.
    /// </summary>
    public static async Task<VipLab> StartAsync(int servers, CancellationToken cancellationToken, IReadOnlyList<string>? extraArgs = null, string timing = "default")
    {
        var profile = timing switch
        {
            "default" => Corral.Server.HaTiming.Default,
            "fast" => Corral.Server.HaTiming.Fast,
            _ => throw new ArgumentException($"timing '{timing}': expected 'default' or 'fast'", nameof(timing)),
        };
        var network = LabNetwork.Create(servers + 1);
        var lab = new VipLab(network, servers) { ExtraArgs = extraArgs ?? [], Timing = timing };
        try
        {
            lab.Etcd = await LabEtcd.StartAsync(lab.Servers, cancellationToken, profile).ConfigureAwait(false);
            return lab;
        }
        catch
        {
            await lab.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Starts the VIP host on server <paramref name="host"/> (appending to its log).</summary>
    public Process StartVipHost(LabHost host)
    {
        var dotnet = Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "/usr/bin/dotnet";
        return host.Start(dotnet,
        [
            VipHostDll, "vip",
            "--name", host.Name,
            // Its own member first, as a server with a managed local etcd member would list them: a dead or cut-off
            // peer then does not hold this host's connection (and its watches) until a keep-alive ping times out.
            "--etcd", string.Join(',', Etcd.ClientUrls.OrderBy(u => u.Contains("//" + host.Address + ":", StringComparison.Ordinal) ? 0 : 1)),
            "--vip", Vip + "/24",
            "--vip-interface", "eth0",
            "--answer-port", AnswerPort.ToString(CultureInfo.InvariantCulture),
            "--timing", Timing,
            .. ExtraArgs,
        ], LogPath(host));
    }

    /// <summary>Starts a VIP host on every server.</summary>
    public void StartVipHosts()
    {
        foreach (var host in Servers)
        {
            StartVipHost(host);
        }
    }

    /// <summary>The VIP host's log on <paramref name="host"/>.</summary>
    public string LogPath(LabHost host) => _logs.Combine(host.Name + ".log");

    /// <summary>The log text of the VIP host on <paramref name="host"/> (empty when none ran).</summary>
    public string Log(LabHost host) => File.Exists(LogPath(host)) ? File.ReadAllText(LogPath(host)) : "";

    /// <summary>Every server host whose eth0 has the VIP now (read from the kernel, not from the VIP hosts).</summary>
    public IReadOnlyList<LabHost> Holders() => [.. Servers.Where(h => h.HasAddress(Vip))];

    /// <summary>Waits until exactly one server holds the VIP and returns it.</summary>
    public async Task<LabHost> WaitSingleHolderAsync(TimeSpan timeout, Func<LabHost, bool>? accept = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var holders = Holders();
            if (holders.Count == 1 && (accept is null || accept(holders[0])))
            {
                return holders[0];
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"no single VIP holder after {timeout.TotalSeconds} s (holders: {string.Join(", ", holders)})\n{AllLogs()}");
            }
            await Task.Delay(50).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// When the VIP host on <paramref name="host"/> logged adding / removing the VIP, in order (UTC): also a re-addition
    /// after its kernel lifetime lapsed, and a removal right after a renewal that came too late.
    /// </summary>
    public IReadOnlyList<(DateTimeOffset At, bool Added)> VipChanges(LabHost host) =>
        [.. VipLine().Matches(Log(host)).Select(m => (DateTimeOffset.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal), m.Groups[2].Value == "added"))];

    /// <summary>Every VIP host's log, for failure messages.</summary>
    public string AllLogs() => string.Join("\n", Servers.Select(h => $"--- {h}\n{Tail(Log(h), 4000)}"));

    public async ValueTask DisposeAsync()
    {
        Network.Dispose();
        Etcd?.Dispose();
        _logs.Dispose();
        await Task.CompletedTask.ConfigureAwait(false);
    }

    private static string Tail(string text, int max) => text.Length <= max ? text : text[^max..];

    [GeneratedRegex(@"^(\S+Z) (?:info|warn): Corral\.Server\.Vip\.VipManager\[(?:480[01]|481[01])\] VIP \S+ (?:re-)?(added|removed)", RegexOptions.Multiline)]
    private static partial Regex VipLine();
}
