using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;

namespace Corral.Testing;

/// <summary>
/// A real etcd cluster (Debian's <c>/usr/bin/etcd</c>) of 1, 3 or 5 members on 127.0.0.1, with free ports, temp data
/// directories and a cluster token unique to this instance. Members can be killed, stopped and restarted (same data
/// directory, they rejoin). Disposing kills every member by PID and deletes the data; a process-exit hook kills
/// any member still alive when the test host exits.
/// </summary>
public sealed class EtcdCluster : IAsyncDisposable
{

    private readonly EtcdClusterOptions _options;
    private readonly TempDirectory _root;
    private readonly EtcdMember[] _members;
    private readonly EtcdProcess?[] _processes;
    private readonly bool[] _frozen;
    private readonly string _initialCluster;
    private readonly string _token;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly HttpClient _http;
    private bool _disposed;

    private EtcdCluster(int members, EtcdClusterOptions options)
    {
        _options = options;
        _root = new TempDirectory("corral-etcd");
        _token = "corral-test-" + Guid.NewGuid().ToString("N");
        _http = CreateHttpClient(options.Tls);
        var scheme = options.Tls is null ? "http" : "https";
        _members = new EtcdMember[members];
        _processes = new EtcdProcess?[members];
        _frozen = new bool[members];
        for (var i = 0; i < members; i++)
        {
            var name = "m" + i.ToString(CultureInfo.InvariantCulture);
            _members[i] = new EtcdMember(
                i,
                name,
                $"{scheme}://127.0.0.1:{FreePorts.Next()}",
                $"http://127.0.0.1:{FreePorts.Next()}",
                $"http://127.0.0.1:{FreePorts.Next()}",
                _root.Combine(name));
        }
        _initialCluster = string.Join(',', _members.Select(m => $"{m.Name}={m.PeerUrl}"));
        ClientUrls = [.. _members.Select(m => m.ClientUrl)];
    }

    /// <summary>Every member's client URL, in member order.</summary>
    public IReadOnlyList<string> ClientUrls { get; }

    /// <summary>The members, in order (stable across restarts).</summary>
    public IReadOnlyList<EtcdMember> Members => _members;

    /// <summary>
    /// Starts <paramref name="members"/> members and waits until every one is healthy (has a leader and serves a
    /// linearizable read). A missing etcd binary throws <see cref="InvalidOperationException"/> telling to run
    /// <c>scripts/install-deps.sh</c>; a member that does not become healthy throws with its recent log lines.
    /// </summary>
    public static async Task<EtcdCluster> StartAsync(int members, CancellationToken cancellationToken, EtcdClusterOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(members, 1);
        options ??= EtcdClusterOptions.Default;
        if (!File.Exists(options.EtcdPath))
        {
            throw new InvalidOperationException(
                $"etcd is not installed: {options.EtcdPath} does not exist. Run scripts/install-deps.sh " +
                "(it installs Debian's etcd-server and etcd-client packages).");
        }
        var cluster = new EtcdCluster(members, options);
        try
        {
            for (var i = 0; i < members; i++)
            {
                cluster.Launch(i);
            }
            await cluster.WaitHealthyAsync(cancellationToken).ConfigureAwait(false);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>True while member <paramref name="member"/>'s process runs.</summary>
    public bool IsRunning(int member) => _processes[member]?.IsRunning == true;

    /// <summary>The PID of member <paramref name="member"/>, or null when it is not running.</summary>
    public int? Pid(int member) => IsRunning(member) ? _processes[member]!.Pid : null;

    /// <summary>
    /// SIGSTOPs member <paramref name="member"/>: its process stays, its connections stay open and the kernel keeps
    /// accepting on them, but nothing answers (a hung machine, as its peers and clients see it). <see cref="Thaw"/>
    /// resumes it; <see cref="DisposeAsync"/> kills it frozen or not. <see cref="FindLeaderAsync"/> skips it meanwhile.
    /// </summary>
    public void Freeze(int member)
    {
        var pid = Pid(member) ?? throw new InvalidOperationException($"member {member} is not running");
        if (!ClusterProcesses.Signal(pid, 19))
        {
            throw new InvalidOperationException($"could not SIGSTOP member {member} (PID {pid})");
        }
        _frozen[member] = true;
    }

    /// <summary>SIGCONTs member <paramref name="member"/> after <see cref="Freeze"/>.</summary>
    public void Thaw(int member)
    {
        if (Pid(member) is { } pid)
        {
            ClusterProcesses.Signal(pid, 18);
        }
        _frozen[member] = false;
    }

    /// <summary>The last log lines of member <paramref name="member"/> (warnings and errors).</summary>
    public string RecentLog(int member) => _processes[member]?.RecentOutput() ?? "";

    /// <summary>SIGKILLs member <paramref name="member"/> by PID and waits until it has exited.</summary>
    public async Task KillAsync(int member, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_processes[member] is { } process)
            {
                await process.KillAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// SIGTERMs member <paramref name="member"/> and waits for it to exit (up to <see cref="EtcdClusterOptions.StopTimeout"/>,
    /// then SIGKILL). An etcd leader stopped this way hands leadership over first.
    /// </summary>
    public async Task StopAsync(int member, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_processes[member] is { } process)
            {
                await process.TerminateAsync(_options.StopTimeout, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Starts member <paramref name="member"/> again with its data directory (killing it first if it still runs) and
    /// waits until it is healthy again, i.e. has rejoined the cluster.
    /// </summary>
    public async Task RestartAsync(int member, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_processes[member] is { } old)
            {
                await old.DisposeAsync().ConfigureAwait(false);
                _processes[member] = null;
            }
            Launch(member);
        }
        finally
        {
            _gate.Release();
        }
        await WaitMemberHealthyAsync(member, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Waits until every running member is healthy, up to <see cref="EtcdClusterOptions.StartTimeout"/>.</summary>
    public async Task WaitHealthyAsync(CancellationToken cancellationToken = default)
    {
        for (var i = 0; i < _members.Length; i++)
        {
            if (IsRunning(i))
            {
                await WaitMemberHealthyAsync(i, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Polls <see cref="FindLeaderAsync"/> every 50 ms until a member other than <paramref name="not"/> leads, and
    /// returns its index; throws <see cref="TimeoutException"/> after <paramref name="timeout"/> (default 30 s).
    /// </summary>
    public async Task<int> WaitForLeaderAsync(CancellationToken cancellationToken = default, int? not = null, TimeSpan? timeout = null)
    {
        var patience = timeout ?? TimeSpan.FromSeconds(30);
        var deadline = DateTime.UtcNow + patience;
        while (true)
        {
            if (await FindLeaderAsync(cancellationToken).ConfigureAwait(false) is { } leader && leader != not)
            {
                return leader;
            }
            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException($"no etcd leader{(not is null ? "" : $" other than member {not}")} within {patience.TotalSeconds} s");
            }
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The index of the member that is the raft leader, as the running members report it; null when none knows.</summary>
    public async Task<int?> FindLeaderAsync(CancellationToken cancellationToken = default)
    {
        for (var i = 0; i < _members.Length; i++)
        {
            if (!IsRunning(i) || _frozen[i])
            {
                continue;
            }
            try
            {
                using var response = await _http.PostAsJsonAsync(_members[i].ClientUrl + "/v3/maintenance/status", new { }, cancellationToken).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode)
                {
                    continue;
                }
                using var json = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), cancellationToken: cancellationToken).ConfigureAwait(false);
                var self = json.RootElement.GetProperty("header").GetProperty("member_id").GetString();
                if (json.RootElement.TryGetProperty("leader", out var leader) && leader.GetString() == self)
                {
                    return i;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }
        }
        return null;
    }

    /// <summary>Kills every member by PID and deletes the data directories.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        for (var i = 0; i < _processes.Length; i++)
        {
            if (_processes[i] is { } process)
            {
                try
                {
                    await process.DisposeAsync().ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    // Reported by the reaper at process exit; keep killing the others.
                }
                _processes[i] = null;
            }
        }
        _root.Dispose();
        _gate.Dispose();
        _http.Dispose();
    }

    private void Launch(int index)
    {
        var m = _members[index];
        string[] arguments =
        [
            "--name", m.Name,
            "--data-dir", m.DataDir,
            "--listen-client-urls", m.ClientUrl,
            "--advertise-client-urls", m.ClientUrl,
            "--listen-peer-urls", m.PeerUrl,
            "--initial-advertise-peer-urls", m.PeerUrl,
            "--listen-metrics-urls", m.MetricsUrl,
            "--initial-cluster", _initialCluster,
            "--initial-cluster-token", _token,
            "--initial-cluster-state", "new",
            "--heartbeat-interval", ((int)_options.HeartbeatInterval.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
            "--election-timeout", ((int)_options.ElectionTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
            "--logger=zap",
            "--log-level=warn",
            .. TlsArguments(_options.Tls),
            .. _options.ExtraArguments,
        ];
        _processes[index] = EtcdProcess.Start(_options.EtcdPath, arguments);
    }

    private static string[] TlsArguments(EtcdTlsFiles? tls) => tls is null
        ? []
        : ["--cert-file", tls.ServerCertFile, "--key-file", tls.ServerKeyFile, "--trusted-ca-file", tls.CaFile, "--client-cert-auth"];

    private static HttpClient CreateHttpClient(EtcdTlsFiles? tls)
    {
        var handler = new SocketsHttpHandler { UseProxy = false };
        if (tls is not null)
        {
            var roots = new System.Security.Cryptography.X509Certificates.X509Certificate2Collection();
            roots.ImportFromPemFile(tls.CaFile);
            handler.SslOptions.ClientCertificates = [System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(tls.ClientCertFile, tls.ClientKeyFile)];
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            {
                if (certificate is null)
                {
                    return false;
                }
                using var chain = new System.Security.Cryptography.X509Certificates.X509Chain();
                chain.ChainPolicy.TrustMode = System.Security.Cryptography.X509Certificates.X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.AddRange(roots);
                chain.ChainPolicy.RevocationMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck;
                return chain.Build(new System.Security.Cryptography.X509Certificates.X509Certificate2(certificate));
            };
        }
        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(5) };
    }

    private async Task WaitMemberHealthyAsync(int index, CancellationToken cancellationToken)
    {
        var member = _members[index];
        var deadline = DateTime.UtcNow + _options.StartTimeout;
        var last = "no answer yet";
        while (DateTime.UtcNow < deadline)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!IsRunning(index))
            {
                throw new InvalidOperationException($"etcd member {member.Name} exited while starting. Its log:\n{RecentLog(index)}");
            }
            try
            {
                using var response = await _http.GetAsync(member.ClientUrl + "/health", cancellationToken).ConfigureAwait(false);
                var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                if (response.IsSuccessStatusCode && body.Contains("\"health\":\"true\"", StringComparison.Ordinal))
                {
                    return;
                }
                last = $"HTTP {(int)response.StatusCode}: {body}";
            }
            catch (HttpRequestException e)
            {
                last = e.Message;
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                last = "health request timed out";
            }
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
        throw new TimeoutException(
            $"etcd member {member.Name} ({member.ClientUrl}) not healthy within {_options.StartTimeout.TotalSeconds} s; last answer: {last}. Its log:\n{RecentLog(index)}");
    }
}
