using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using Corral.Core.Cluster;
using Corral.Testing;

namespace Corral.IntegrationTests;

/// <summary>Node certificates with real processes: revocation by <c>corral node rm</c> and renewal by the agent.</summary>
public sealed partial class AgentJoinTests
{
    [Fact]
    public async Task RemovedNode_AgentStopsItsReplicasAndCannotReconnect_UntilItJoinsAgainWithANewToken()
    {
        var token = (await Client.CreateJoinTokenAsync("10m", 1, "agent", CancellationToken.None)).Token;
        var agent = StartAgent("r1", "--server", ServerUrl, "--token", token, "--name", "r1");
        await WaitHeartbeatAsync("r1", agent, "r1.log", DateTimeOffset.MinValue);
        await Client.DeployAsync(Stacks.Request(Stacks.Stack("rm", Stacks.Worker("sleeper", 1))), CancellationToken.None);
        var replica = await Eventually.ValueAsync(async () => (await Client.ListReplicasAsync("sleeper", "r1", CancellationToken.None)).FirstOrDefault(r => r.Pid is not null), Timeout, "the worker to run on r1");
        var pid = replica.Pid!.Value;

        await Client.RemoveNodeAsync("r1", CancellationToken.None);

        using (var wait = new CancellationTokenSource(Timeout))
        {
            await agent.WaitForExitAsync(wait.Token);
        }
        var log = Log("r1.log");
        Assert.True(agent.ExitCode == 5, $"expected exit 5 (unauthorized), got {agent.ExitCode}\n{log}");
        Assert.Contains("was removed from the cluster", log, StringComparison.Ordinal);
        Assert.Contains("join again with a new token", log, StringComparison.Ordinal);
        Assert.False(ClusterProcesses.Signal(pid, 0), $"the removed node's replica (pid {pid}) still runs\n{log}");
        Assert.False(Directory.Exists(Path.Combine(_dir.Combine("r1"), "identity")));
        var retired = Assert.Single(Directory.GetDirectories(_dir.Combine("r1"), "identity.revoked-*"));

        // Started again with its old certificate (put back), it is refused as revoked and never registers.
        Directory.Move(retired, Path.Combine(_dir.Combine("r1"), "identity"));
        var stale = StartAgent("r1", "r1-stale.log");
        using (var wait = new CancellationTokenSource(Timeout))
        {
            await stale.WaitForExitAsync(wait.Token);
        }
        var staleLog = Log("r1-stale.log");
        Assert.True(stale.ExitCode == 5, $"expected exit 5 (unauthorized), got {stale.ExitCode}\n{staleLog}");
        Assert.Contains("join again with a new token", staleLog, StringComparison.Ordinal);
        Assert.DoesNotContain(await Client.ListNodesAsync(CancellationToken.None), n => n.Node.Name == "r1");

        var fresh = (await Client.CreateJoinTokenAsync("10m", 1, "agent", CancellationToken.None)).Token;
        var joined = Start("r1-join.log", "agent", "--data-dir", _dir.Combine("r1"), "--server", ServerUrl, "--token", fresh, "--name", "r1");
        await WaitHeartbeatAsync("r1", joined, "r1-join.log", DateTimeOffset.MinValue);
        Assert.Equal(NodeStatus.Ready, (await Client.GetNodeAsync("r1", CancellationToken.None)).Node.Status);
    }

    [Fact]
    public async Task Agent_CertificateNearExpiry_IsRenewedAndUsedForNewConnectionsWithoutRestartingReplicas()
    {
        await RestartServerAsync("--node-cert-validity", "12s");
        await using var proxy = new TcpProxy(_port);
        var token = (await Client.CreateJoinTokenAsync("10m", 1, "agent", CancellationToken.None)).Token;
        var agent = StartAgent("c1", "--server", ProxyUrl(proxy), "--token", token, "--name", "c1");
        await WaitHeartbeatAsync("c1", agent, "c1.log", DateTimeOffset.MinValue);
        await Client.DeployAsync(Stacks.Request(Stacks.Stack("renew", Stacks.Worker("steady", 1))), CancellationToken.None);
        var replica = await Eventually.ValueAsync(async () => (await Client.ListReplicasAsync("steady", "c1", CancellationToken.None)).FirstOrDefault(r => r.Pid is not null), Timeout, "the worker to run on c1");

        var certificatePath = Path.Combine(_dir.Combine("c1"), "identity", "node.crt");
        using var original = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(certificatePath));
        Assert.InRange(original.NotAfter - original.NotBefore, TimeSpan.FromSeconds(12), TimeSpan.FromSeconds(14));
        await Eventually.TrueAsync(() => Serial(certificatePath) != original.SerialNumber, Timeout, "the agent to store a renewed certificate");
        // Past the first certificate's expiry, a new connection must present a renewed one to be let in.
        while (DateTime.UtcNow < original.NotAfter.ToUniversalTime() + TimeSpan.FromSeconds(1))
        {
            await Task.Delay(200);
        }
        proxy.Cut();
        await Task.Delay(500);
        var healedAt = DateTimeOffset.UtcNow;
        proxy.Heal();
        await WaitHeartbeatAsync("c1", agent, "c1.log", healedAt);

        var after = Assert.Single(await Client.ListReplicasAsync("steady", "c1", CancellationToken.None));
        Assert.Equal(replica.Pid, after.Pid);
        Assert.Contains("certificate renewed", Log("c1.log"), StringComparison.Ordinal);
    }

    private static string Serial(string path)
    {
        try
        {
            using var certificate = X509Certificate2.CreateFromPem(File.ReadAllText(path));
            return certificate.SerialNumber;
        }
        catch (Exception e) when (e is IOException or System.Security.Cryptography.CryptographicException)
        {
            return "";
        }
    }

    /// <summary>Stops the server (SIGTERM) and starts it again on the same data dir and port with <paramref name="extra"/> arguments.</summary>
    private async Task RestartServerAsync(params string[] extra)
    {
        var server = _server ?? throw new InvalidOperationException("the server is not started");
        ClusterProcesses.Signal(server.Id, 15);
        using (var wait = new CancellationTokenSource(Timeout))
        {
            await server.WaitForExitAsync(wait.Token);
        }
        var port = _port.ToString(CultureInfo.InvariantCulture);
        _server = Start("server-again.log", ["server", "run", "--data-dir", ServerDir, "--port", port, .. extra]);
        await Eventually.ValueAsync(async () =>
        {
            Assert.False(_server.HasExited, "corral server run exited\n" + Log("server-again.log"));
            return await Client.GetStatusAsync(CancellationToken.None);
        }, Timeout, "the restarted server to answer");
    }
}
