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
        var init = Start("s0-init.log", "server", "init", "--ha", "--data-dir", DataDir(0), "--name", "s0", "--port", Port(0), "--etcd-client-port", Port(3), "--etcd-peer-port", Port(6));
        Assert.True(await ExitCodeAsync(init) == 0, Log("s0-init.log"));
        _servers[0] = Run(0);
        var admin = JsonSerializer.Deserialize(await File.ReadAllTextAsync(Path.Combine(DataDir(0), "admin.json")), CoreJson.Default.ClientConfig)!;
        _client = new CorralClient(admin with { Addresses = [Url(0), Url(1), Url(2)] });
        await Eventually.ValueAsync(async () => (await Client.GetStatusAsync(Ct)).Leader, Timeout, "s0 to lead\n" + Log("s0.log"));

        var token = (await Client.CreateJoinTokenAsync("10m", 2, "server", Ct)).Token;
        for (var i = 1; i < 3; i++)
        {
            _servers[i] = Start($"s{i}.log", "server", "join", Url(0), "--token", token, "--data-dir", DataDir(i), "--name", $"s{i}", "--port", Port(i), "--etcd-client-port", Port(3 + i), "--etcd-peer-port", Port(6 + i));
            var joined = i;
            await Eventually.ValueAsync(async () =>
            {
                Assert.False(_servers[joined]!.HasExited, $"s{joined} exited\n" + Log($"s{joined}.log"));
                var status = await Client.GetStatusAsync(Ct);
                return status.StoreMembers.Count == joined + 1 && status.StoreMembers.All(m => m.Healthy) ? status : null;
            }, Timeout, $"s{i} to join with a healthy etcd member\n" + Log($"s{i}.log"));
        }
        var three = await Client.GetStatusAsync(Ct);
        Assert.Equal(["s0", "s1", "s2"], three.StoreMembers.Select(m => m.Name).Order());
        Assert.Equal(2, three.StoreMajority);
        Assert.Equal(1, three.StoreFaultTolerance);
        Assert.All(three.StoreMembers, m => Assert.StartsWith("https://127.0.0.1:", m.Endpoint, StringComparison.Ordinal));

        // The etcd leader is kept off the Corral leader's host: s0's member led etcd from the start (it was alone), so
        // the leader's placement controller handed etcd leadership to another member once three were healthy.
        var placed = await Eventually.ValueAsync(async () =>
        {
            var status = await Client.GetStatusAsync(Ct);
            return status.Leader is { } leader && status.StoreMembers.SingleOrDefault(m => m.IsLeader) is { } etcdLeader && etcdLeader.Name != leader ? status : null;
        }, Timeout, "the etcd leader to move off the Corral leader's host\n" + Log("s0-run.log"));
        Assert.Equal("s0", placed.Leader);
        var moved = (await Client.GetEventsAsync(0, null, 1000, Ct)).Events.Where(e => e.Kind == "store.leader.moved").ToList();
        Assert.True(moved.Count >= 1, "no store.leader.moved event\n" + Log("s0-run.log"));
        Assert.All(moved, e => Assert.Equal("leader:s0", e.Actor));
        Assert.Contains("from 's0'", moved[0].Message, StringComparison.Ordinal);

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

    private string DataDir(int i) => _dir.Combine($"s{i}");

    private string Port(int i) => _ports[i].ToString(CultureInfo.InvariantCulture);

    private string Url(int i) => $"https://127.0.0.1:{Port(i)}";

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
