using System.Globalization;

namespace Corral.Testing.Lab;

/// <summary>
/// A real etcd cluster with one member per lab host (Debian's <c>/usr/bin/etcd</c>, started in the host's namespace),
/// client URL <c>http://10.77.0.I:2379</c>, peer URL <c>:2380</c>. Its processes belong to the hosts: killing a host's
/// processes kills its member; the lab's dispose removes them all.
/// </summary>
public sealed class LabEtcd : IDisposable
{
    private readonly TempDirectory _root = new("corral-labetcd");
    private readonly IReadOnlyList<LabHost> _hosts;
    private readonly string _token = "corral-lab-" + Guid.NewGuid().ToString("N");
    private readonly Corral.Server.HaTiming? _timing;

    private LabEtcd(IReadOnlyList<LabHost> hosts, Corral.Server.HaTiming? timing)
    {
        _hosts = hosts;
        _timing = timing;
        ClientUrls = [.. hosts.Select(h => $"http://{h.Address}:2379")];
    }

    /// <summary>Every member's client URL, in host order.</summary>
    public IReadOnlyList<string> ClientUrls { get; }

    /// <summary>
    /// Starts one member on each of <paramref name="hosts"/> and waits until every one is healthy. With
    /// <paramref name="timing"/>, the members use its etcd heartbeat and election timeout and pre-vote (as a managed
    /// member would); else etcd's defaults (100 ms, 1 s, no pre-vote).
    /// </summary>
    public static async Task<LabEtcd> StartAsync(IReadOnlyList<LabHost> hosts, CancellationToken cancellationToken, Corral.Server.HaTiming? timing = null)
    {
        if (!File.Exists("/usr/bin/etcd"))
        {
            throw new InvalidOperationException("etcd is not installed: run scripts/install-deps.sh");
        }
        var etcd = new LabEtcd(hosts, timing);
        try
        {
            for (var i = 0; i < hosts.Count; i++)
            {
                etcd.Launch(i);
            }
            for (var i = 0; i < hosts.Count; i++)
            {
                await etcd.WaitHealthyAsync(i, TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
            }
            return etcd;
        }
        catch
        {
            etcd.Dispose();
            throw;
        }
    }

    /// <summary>Starts member <paramref name="index"/> again on its host (same data directory: it rejoins).</summary>
    public void Launch(int index)
    {
        var host = _hosts[index];
        var initial = string.Join(',', _hosts.Select(h => $"{h.Name}=http://{h.Address}:2380"));
        host.Start("/usr/bin/etcd",
        [
            "--name", host.Name,
            "--data-dir", _root.Combine(host.Name),
            "--listen-client-urls", $"http://{host.Address}:2379",
            "--advertise-client-urls", $"http://{host.Address}:2379",
            "--listen-peer-urls", $"http://{host.Address}:2380",
            "--initial-advertise-peer-urls", $"http://{host.Address}:2380",
            "--listen-metrics-urls", "http://127.0.0.1:2381",
            "--initial-cluster", initial,
            "--initial-cluster-state", "new",
            "--initial-cluster-token", _token,
            "--logger=zap", "--log-level=warn",
            .. _timing is null ? Array.Empty<string>() :
            [
                "--pre-vote",
                "--heartbeat-interval", ((int)_timing.EtcdHeartbeat.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
                "--election-timeout", ((int)_timing.EtcdElectionTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
            ],
        ], _root.Combine(host.Name + ".log"));
    }

    /// <summary>Waits until member <paramref name="index"/> reports healthy (etcdctl endpoint health, from its own host).</summary>
    public async Task WaitHealthyAsync(int index, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var host = _hosts[index];
        var deadline = DateTime.UtcNow + timeout;
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (code, output) = host.Exec("/usr/bin/etcdctl", "--endpoints", ClientUrls[index], "--command-timeout=2s", "endpoint", "health");
            if (code == 0 && output.Contains("is healthy", StringComparison.Ordinal))
            {
                return;
            }
            last = output.Trim();
            await Task.Delay(200, cancellationToken).ConfigureAwait(false);
        }
        throw new TimeoutException($"etcd member on {host} not healthy after {timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s: {last}\n{Log(index)}");
    }

    /// <summary>The member's log (warnings and errors).</summary>
    public string Log(int index)
    {
        var path = _root.Combine(_hosts[index].Name + ".log");
        return File.Exists(path) ? File.ReadAllText(path) : "";
    }

    public void Dispose() => _root.Dispose();
}
