using System.Net.Http.Json;
using Corral.Testing;

namespace Corral.Store.Tests.Etcd;

public sealed class EtcdClusterHarnessTests
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    [Fact]
    public async Task StartAsync_MissingBinary_FailsNamingInstallScript()
    {
        var options = new EtcdClusterOptions { EtcdPath = "/nonexistent/etcd" };
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => EtcdCluster.StartAsync(1, CancellationToken.None, options));
        Assert.Contains("scripts/install-deps.sh", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ThreeMembers_KillRestartStop_MembersRejoinAndProcessesAreGone()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        int[] pids;
        await using (var cluster = await EtcdCluster.StartAsync(3, cts.Token))
        {
            Assert.Equal(3, cluster.ClientUrls.Count);
            Assert.Equal(3, cluster.ClientUrls.Distinct().Count());
            var leader = await cluster.WaitForLeaderAsync(cts.Token);
            var follower = (leader + 1) % 3;

            await PutAsync(cluster.ClientUrls[leader], "a", "1", cts.Token);
            await cluster.KillAsync(follower, cts.Token);
            Assert.False(cluster.IsRunning(follower));
            await PutAsync(cluster.ClientUrls[leader], "b", "2", cts.Token);

            await cluster.RestartAsync(follower, cts.Token);
            Assert.True(cluster.IsRunning(follower));
            Assert.Contains("\"count\":\"2\"", await RangeAllAsync(cluster.ClientUrls[follower], cts.Token), StringComparison.Ordinal);

            await cluster.StopAsync(leader, cts.Token);
            Assert.False(cluster.IsRunning(leader));
            var newLeader = await cluster.WaitForLeaderAsync(cts.Token);
            Assert.NotEqual(leader, newLeader);
            pids = [.. Enumerable.Range(0, 3).Select(cluster.Pid).OfType<int>()];
            Assert.Equal(2, pids.Length);
        }
        foreach (var pid in pids)
        {
            Assert.False(ProcessExists(pid), $"etcd process {pid} still runs after dispose");
        }
    }

    private static bool ProcessExists(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static async Task PutAsync(string url, string key, string value, CancellationToken cancellationToken)
    {
        using var response = await Http.PostAsJsonAsync(
            url + "/v3/kv/put",
            new { key = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(key)), value = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(value)) },
            cancellationToken);
        response.EnsureSuccessStatusCode();
    }

    private static async Task<string> RangeAllAsync(string url, CancellationToken cancellationToken)
    {
        using var response = await Http.PostAsJsonAsync(url + "/v3/kv/range", new { key = "AA==", range_end = "AA==", count_only = true }, cancellationToken);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync(cancellationToken);
    }
}
