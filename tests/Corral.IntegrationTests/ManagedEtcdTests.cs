using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Corral.Client;
using Corral.Core;
using Corral.Testing;

namespace Corral.IntegrationTests;

/// <summary>
/// <c>server init --ha</c>, <c>node token create --role server</c>, <c>server join</c> and <c>server leave</c> as real
/// processes, each server supervising a real etcd member (Debian's /usr/bin/etcd) with TLS.
/// </summary>
public sealed class ManagedEtcdTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private static readonly CancellationToken Ct = CancellationToken.None;

    private readonly TempDirectory _dir = new("corral-managed");
    private readonly ProcessReaper _reaper = new();
    private readonly int[] _ports = [.. Enumerable.Range(0, 9).Select(_ => FreePorts.Next())];
    private readonly Process?[] _servers = new Process?[3];
    private CorralClient? _client;
    private Corral.Core.Api.ClientConfig? _admin;

    private CorralClient Client => _client ?? throw new InvalidOperationException("not started");

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        try
        {
            ClusterProcesses.KillAllUnder(_dir.Path);
        }
        finally
        {
            _reaper.Dispose();
            _client?.Dispose();
            _dir.Dispose();
        }
        return Task.CompletedTask;
    }

    [Fact]
    public async Task InitHaJoinTwo_ThreeMembers_LeaveRefusedWhileItWouldBreakQuorumAllowedOnceMajorityIsBack()
    {
        await StartThreeAsync();
        var three = await Client.GetStatusAsync(Ct);
        Assert.Equal(["s0", "s1", "s2"], three.StoreMembers.Select(m => m.Name).Order());
        Assert.Equal(2, three.StoreMajority);
        Assert.Equal(1, three.StoreFaultTolerance);
        Assert.All(three.StoreMembers, m => Assert.StartsWith("https://127.0.0.1:", m.Endpoint, StringComparison.Ordinal));

        // The etcd leader is kept off the Corral leader's host: s0's member led etcd from the start (it was alone); once
        // three were healthy the etcd leader is another member.
        var placed = await Eventually.ValueAsync(async () =>
        {
            var status = await Client.GetStatusAsync(Ct);
            return status.Leader is { } leader && status.StoreMembers.SingleOrDefault(m => m.IsLeader) is { } etcdLeader && etcdLeader.Name != leader ? status : null;
        }, Timeout, "the etcd leader to move off the Corral leader's host\n" + Log("s0-run.log"));
        Assert.Equal("s0", placed.Leader);
        // etcd may also have changed leaders by itself while members joined (then nothing needed moving); every move
        // recorded was made by the Corral leader, away from its own member. EtcdLeaderPlacementTests force a move.
        var moved = (await Client.GetEventsAsync(0, null, 1000, Ct)).Events.Where(e => e.Kind == "store.leader.moved").ToList();
        Assert.All(moved, e => Assert.Equal("leader:s0", e.Actor));
        Assert.All(moved, e => Assert.Contains("from 's0'", e.Message, StringComparison.Ordinal));

        // s2's machine dies; s1 is stopped to leave: s0 alone could not keep a quorum of the two members left.
        ClusterProcesses.KillAll(ClusterProcesses.Find(DataDir(2)));
        ClusterProcesses.Signal(_servers[1]!.Id, 15);
        await _servers[1]!.WaitForExitAsync(new CancellationTokenSource(Timeout).Token);
        var refused = Start("leave-1.log", "server", "leave", "--data-dir", DataDir(1));
        Assert.Equal(4, await ExitCodeAsync(refused));
        var why = Log("leave-1.log");
        Assert.True(why.Contains("leaving would break the quorum", StringComparison.Ordinal), why);
        Assert.True(why.Contains("leaving would break the quorum: 2 etcd members would remain, 2 of them must be up, but only 1 answer (s0)", StringComparison.Ordinal), why);
        Assert.Contains("Bring s2 back first", why, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(DataDir(1), "server.json")), "a refused leave changes nothing");

        // s2 back: the majority is back and s1 may leave; two members remain, tolerating no failure.
        _servers[2] = Run(2);
        await Eventually.ValueAsync(async () =>
        {
            var status = await Client.GetStatusAsync(Ct);
            return status.StoreHealthy && status.StoreMembers.Count(m => m.Healthy) == 2 ? status : null;
        }, Timeout, "s0 and s2 healthy again\n" + Log("s2.log"));
        var leave = Start("leave-2.log", "server", "leave", "--data-dir", DataDir(1));
        Assert.True(await ExitCodeAsync(leave) == 0, Log("leave-2.log"));
        Assert.Contains("server 's1' left", Log("leave-2.log"), StringComparison.Ordinal);
        var two = await Eventually.ValueAsync(async () =>
        {
            var status = await Client.GetStatusAsync(Ct);
            return status.StoreMembers.Count == 2 && status.StoreMembers.All(m => m.Healthy) ? status : null;
        }, Timeout, "two healthy members after the leave");
        Assert.Equal(["s0", "s2"], two.StoreMembers.Select(m => m.Name).Order());
        Assert.Equal(2, two.StoreMajority);
        Assert.Equal(0, two.StoreFaultTolerance);
        Assert.False(File.Exists(Path.Combine(DataDir(1), "server.json")));
    }

    [Fact]
    public async Task S0sOwnEtcdMemberDies_S0LearnedTheOthersAtJoin_ServesWritesThroughThem_AlsoAfterARestart()
    {
        await StartThreeAsync();

        // s0 was initialized knowing only its own member; the joins taught it the others, saved in server.json.
        var saved = await Eventually.ValueAsync(async () =>
        {
            using var config = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(DataDir(0), "server.json")));
            var endpoints = config.RootElement.GetProperty("etcd_endpoints").EnumerateArray().Select(e => e.GetString()!).ToList();
            return endpoints.Count == 3 ? endpoints : null;
        }, Timeout, "s0's server.json to list the three members\n" + Log("s0-run.log"));
        Assert.Equal([EtcdUrl(0), EtcdUrl(1), EtcdUrl(2)], saved);

        // Kill s0's member and keep it down (its client port held, so the server's restarts of it fail).
        var pidFile = Path.Combine(DataDir(0), "etcd", "member.pid");
        var memberPid = int.Parse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture);
        Assert.True(ClusterProcesses.Signal(memberPid, 9), $"kill -9 s0's etcd member {memberPid}");
        using var held = await HoldPortAsync(_ports[3]);
        using var s0 = new CorralClient(_admin! with { Addresses = [Url(0)] });
        await WriteThroughAsync(s0, "s0 with its own member dead");
        Assert.True(_servers[0]!.HasExited is false, "s0 kept running\n" + Log("s0-run.log"));

        // s0 restarted while its member is still down: server.json leads it to the others.
        ClusterProcesses.Signal(_servers[0]!.Id, 15);
        await _servers[0]!.WaitForExitAsync(new CancellationTokenSource(Timeout).Token);
        _servers[0] = Start("s0-rerun.log", "server", "run", "--data-dir", DataDir(0), "--port", Port(0));
        await WriteThroughAsync(s0, "s0 restarted with its own member dead");
        Assert.False(_servers[0]!.HasExited, "s0 runs without its member\n" + Log("s0-rerun.log"));
    }

    /// <summary>A write (a join token) through <paramref name="client"/>, retried until it succeeds.</summary>
    private static async Task WriteThroughAsync(CorralClient client, string what) =>
        await Eventually.ValueAsync(async () =>
        {
            try
            {
                return await client.CreateJoinTokenAsync("10m", 1, "agent", Ct);
            }
            catch (Exception e) when (e is CorralApiException or HttpRequestException or TaskCanceledException)
            {
                return null;
            }
        }, Timeout, "a write through " + what);

    /// <summary>Listens on 127.0.0.1:<paramref name="port"/> as soon as it is free (within a second of the kill, before a restart takes it).</summary>
    private static async Task<System.Net.Sockets.TcpListener> HoldPortAsync(int port)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (true)
        {
            var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
            try
            {
                listener.Start();
                return listener;
            }
            catch (System.Net.Sockets.SocketException) when (DateTime.UtcNow < deadline)
            {
                listener.Dispose();
                await Task.Delay(10);
            }
        }
    }

    /// <summary>Inits s0 with <c>--ha</c>, runs it, and joins s1 and s2 through it, one at a time.</summary>
    private async Task StartThreeAsync()
    {
        var init = Start("s0-init.log", "server", "init", "--ha", "--data-dir", DataDir(0), "--name", "s0", "--port", Port(0), "--etcd-client-port", Port(3), "--etcd-peer-port", Port(6));
        Assert.True(await ExitCodeAsync(init) == 0, Log("s0-init.log"));
        _servers[0] = Run(0);
        var admin = JsonSerializer.Deserialize(await File.ReadAllTextAsync(Path.Combine(DataDir(0), "admin.json")), CoreJson.Default.ClientConfig)!;
        _admin = admin;
        _client = new CorralClient(admin with { Addresses = [Url(0), Url(1), Url(2)] });
        await Eventually.ValueAsync(async () => (await Client.GetStatusAsync(Ct)).Leader, Timeout, "s0 to lead\n" + Log("s0.log"));

        var token = (await Client.CreateJoinTokenAsync("10m", 2, "server", Ct)).Token;
        for (var i = 1; i < 3; i++)
        {
            _servers[i] = Start($"s{i}.log", "server", "join", Url(0), "--token", token, "--data-dir", DataDir(i), "--name", $"s{i}", "--port", Port(i), "--etcd-client-port", Port(3 + i), "--etcd-peer-port", Port(6 + i));
            var joined = i;
            await Eventually.ValueAsync(async () =>
            {
                Assert.False(_servers[joined]!.HasExited, $"s{joined} exited\n" + Log($"s{joined}.log") + Log("s0-run.log"));
                var status = await Client.GetStatusAsync(Ct);
                return status.StoreMembers.Count == joined + 1 && status.StoreMembers.All(m => m.Healthy) ? status : null;
            }, Timeout, $"s{i} to join with a healthy etcd member\n" + Log($"s{i}.log"));

            // The next join goes through s0, which refuses writes until its quorum monitor (a probe a second, 3 s
            // budget) has seen the grown cluster answer; a loaded machine can make that lag the status above.
            using var s0 = new CorralClient(admin with { Addresses = [Url(0)] });
            await WriteThroughAsync(s0, $"s0 once s{i} joined");
        }
    }

    private string DataDir(int i) => _dir.Combine($"s{i}");

    private string Port(int i) => _ports[i].ToString(CultureInfo.InvariantCulture);

    private string Url(int i) => $"https://127.0.0.1:{Port(i)}";

    private string EtcdUrl(int i) => $"https://127.0.0.1:{Port(3 + i)}";

    private Process Run(int i) => Start($"s{i}-run.log", "server", "run", "--data-dir", DataDir(i), "--port", Port(i));

    private static async Task<int> ExitCodeAsync(Process process)
    {
        using var wait = new CancellationTokenSource(Timeout);
        await process.WaitForExitAsync(wait.Token);
        return process.ExitCode;
    }

    private Process Start(string log, params string[] args) =>
        _reaper.Start(CorralBinary.Dotnet, [CorralBinary.Dll, .. args], _dir.Combine(log), new Dictionary<string, string> { ["DOTNET_NOLOGO"] = "1" });

    private string Log(string name)
    {
        try
        {
            return $"--- {name} ---\n" + File.ReadAllText(_dir.Combine(name));
        }
        catch (IOException)
        {
            return $"(no {name})";
        }
    }
}
