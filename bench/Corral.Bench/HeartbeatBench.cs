using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Corral.Agent.ControlPlane;
using Corral.Core;
using Corral.Core.Api;
using Corral.Core.Security;
using Corral.Core.Tasks;
using Corral.Testing;

namespace Corral.Bench;

/// <summary>
/// <c>heartbeats [--agents 1000] [--seconds 60] [--warmup 10]</c>: a real <c>corral server run</c> process and
/// simulated agents, each joined with a join token (its own key and certificate from the cluster CA) and talking to
/// the server over its own mTLS HTTP/2 connection. Every agent registers, gets one replica of a service assigned, and
/// heartbeats every second reporting it healthy. After the warm-up (the first reports change the replicas' state),
/// the steady state is measured: the server's CPU time (user + system, from /proc) as a percentage of one core,
/// heartbeat latency at the agents, and the store revisions the window advanced (every store write advances it).
/// Then the same agents heartbeat, in a second window, at a reference process
/// (<see cref="HeartbeatReferenceServer"/>: bare Kestrel, the same TLS, mTLS check and HTTP/2, parsing the heartbeat
/// and answering 204), so what the machine's load costs is measured beside what Corral costs.
/// </summary>
internal static class HeartbeatBench
{
    private const string Usage = "usage: heartbeats [--agents 1000] [--seconds 60] [--warmup 10]";

    public static async Task<int> RunAsync(string[] args)
    {
        var agents = 1000;
        var seconds = 60;
        var warmup = 10;
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            int? number = value is not null && int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : null;
            switch (args[i])
            {
                case "--agents" when number is not null:
                    agents = number.Value;
                    break;
                case "--seconds" when number is not null:
                    seconds = number.Value;
                    break;
                case "--warmup" when number is not null:
                    warmup = number.Value;
                    break;
                default:
                    Console.Error.WriteLine($"heartbeats: unknown or incomplete option '{args[i]}'; {Usage}");
                    return 2;
            }
            i++;
        }
        await using var cluster = await BenchCluster.StartAsync("5s");
        return await RunAsync(cluster, agents, TimeSpan.FromSeconds(seconds), TimeSpan.FromSeconds(warmup));
    }

    private static async Task<int> RunAsync(BenchCluster cluster, int count, TimeSpan window, TimeSpan warmup)
    {
        var client = cluster.Client;
        Console.Error.WriteLine($"heartbeats: joining {count} agents...");
        if (!JoinToken.TryParse((await client.CreateJoinTokenAsync("1h", count, "agent", CancellationToken.None)).Token, out var token, out var error))
        {
            throw new InvalidOperationException("the server issued a token that does not parse: " + error);
        }
        var agents = new SimulatedAgent[count];
        var joinClock = Stopwatch.StartNew();
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, ct) =>
        {
            var name = "sim-" + i.ToString("D4", CultureInfo.InvariantCulture);
            var identity = await NodeJoiner.JoinAsync(cluster.Url, token, name, new Dictionary<string, string>(), ct);
            agents[i] = new SimulatedAgent(cluster.Url, identity);
        });
        Console.Error.WriteLine($"heartbeats: {count} joined in {joinClock.Elapsed.TotalSeconds:0.0} s; registering...");
        try
        {
            await Parallel.ForEachAsync(agents, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (agent, ct) => await agent.RegisterAsync(ct));

            // One replica per node: a service of `count` replicas that nothing really runs; the agents report them healthy.
            var stack = $"stack: hb\nservices:\n  hb:\n    command: /bin/sleep\n    args: [\"100000\"]\n    replicas: {count}\n";
            await client.DeployAsync(new DeployRequest(stack, "hb.yaml", false), CancellationToken.None);
            await BenchCluster.WaitAsync(async () => (await client.GetServiceAsync("hb", CancellationToken.None)).Replicas.Count(r => r.Replica.Node is not null) == count, "every replica placed", TimeSpan.FromMinutes(2));
            await Parallel.ForEachAsync(agents, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (agent, ct) => await agent.FetchAssignmentsAsync(ct));

            Console.Error.WriteLine($"heartbeats: {count} agents heartbeating every second at the server; warm-up {warmup.TotalSeconds:0} s, then {window.TotalSeconds:0} s measured...");
            var corral = await MeasureAsync(agents, cluster.Url, () => cluster.ServerCpu(), async () => (await client.GetStatusAsync(CancellationToken.None)).Revision, warmup, window);
            var healthy = (await client.GetServiceAsync("hb", CancellationToken.None)).Healthy;

            var referencePort = FreePorts.Next();
            var reference = cluster.StartBench("reference.log", "heartbeats-reference-server", "--data-dir", cluster.ServerDir, "--port", referencePort.ToString(CultureInfo.InvariantCulture));
            var referenceUrl = new Uri($"https://127.0.0.1:{referencePort.ToString(CultureInfo.InvariantCulture)}/");
            await BenchCluster.WaitAsync(async () =>
            {
                try
                {
                    using var probe = new System.Net.Sockets.TcpClient();
                    await probe.ConnectAsync(IPAddress.Loopback, referencePort);
                    return true;
                }
                catch (System.Net.Sockets.SocketException)
                {
                    return !reference.HasExited ? false : throw new InvalidOperationException("the reference server exited");
                }
            }, "the reference server to listen");
            Console.Error.WriteLine($"heartbeats: the same agents at the reference (bare Kestrel, same mTLS and HTTP/2, parse and 204); warm-up {warmup.TotalSeconds:0} s, then {window.TotalSeconds:0} s measured...");
            var bare = await MeasureAsync(agents, referenceUrl, () => BenchCluster.ProcessCpu(reference.Id), () => Task.FromResult(0L), warmup, window);

            Console.WriteLine("| figure | corral server | reference (bare Kestrel) | target |");
            Console.WriteLine("| --- | --- | --- | --- |");
            Console.WriteLine($"| agents (own certificate each, mTLS, HTTP/2) | {count} | {count} | 1,000 |");
            Console.WriteLine($"| replicas reported healthy (after the window) | {healthy} of {count} | | |");
            Console.WriteLine($"| measured window | {corral.Elapsed.TotalSeconds:0.0} s | {bare.Elapsed.TotalSeconds:0.0} s | |");
            Console.WriteLine($"| heartbeats answered | {corral.Latencies.Count} ({corral.PerSecond:0} /s), {corral.Failures} failed | {bare.Latencies.Count} ({bare.PerSecond:0} /s), {bare.Failures} failed | |");
            Console.WriteLine($"| server CPU | {corral.CpuPercent:0.0} % of one core | {bare.CpuPercent:0.0} % | <= 25 % |");
            Console.WriteLine($"| heartbeat latency p50 | {corral.Percentile(50):0.00} ms | {bare.Percentile(50):0.00} ms | |");
            Console.WriteLine($"| heartbeat latency p99 | {corral.Percentile(99):0.00} ms | {bare.Percentile(99):0.00} ms | <= 20 ms |");
            Console.WriteLine($"| heartbeat latency max | {corral.Percentile(100):0.00} ms | {bare.Percentile(100):0.00} ms | |");
            Console.WriteLine($"| store writes in steady state | {corral.Writes} ({corral.Writes / corral.Elapsed.TotalSeconds:0.00} /s) | | 0 |");
            var json = new Dictionary<string, object>
            {
                ["command"] = "heartbeats",
                ["agents"] = count,
                ["healthy"] = healthy,
                ["window_s"] = Math.Round(corral.Elapsed.TotalSeconds, 1),
                ["heartbeats"] = corral.Latencies.Count,
                ["heartbeats_per_s"] = Math.Round(corral.PerSecond, 1),
                ["failures"] = corral.Failures,
                ["server_cpu_percent_of_core"] = Math.Round(corral.CpuPercent, 1),
                ["latency_p50_ms"] = Math.Round(corral.Percentile(50), 2),
                ["latency_p99_ms"] = Math.Round(corral.Percentile(99), 2),
                ["latency_max_ms"] = Math.Round(corral.Percentile(100), 2),
                ["store_writes"] = corral.Writes,
                ["store_writes_per_s"] = Math.Round(corral.Writes / corral.Elapsed.TotalSeconds, 2),
                ["reference_cpu_percent_of_core"] = Math.Round(bare.CpuPercent, 1),
                ["reference_latency_p50_ms"] = Math.Round(bare.Percentile(50), 2),
                ["reference_latency_p99_ms"] = Math.Round(bare.Percentile(99), 2),
                ["reference_latency_max_ms"] = Math.Round(bare.Percentile(100), 2),
                ["reference_failures"] = bare.Failures,
            };
            Console.WriteLine(JsonSerializer.Serialize(json));
            return 0;
        }
        finally
        {
            foreach (var agent in agents)
            {
                agent?.Dispose();
            }
        }
    }

    /// <summary>Runs every agent's heartbeat loop at <paramref name="server"/>: a warm-up, then the measured window.</summary>
    private static async Task<Figures> MeasureAsync(SimulatedAgent[] agents, Uri server, Func<TimeSpan> cpu, Func<Task<long>> revision, TimeSpan warmup, TimeSpan window)
    {
        // Connections first (TLS handshakes, as the agents' registrations did at the server), a few at a time.
        await Parallel.ForEachAsync(agents, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (agent, ct) => await agent.ConnectAsync(server, ct));
        using var stop = new CancellationTokenSource();
        var loops = agents.Select((a, i) => Task.Run(() => a.HeartbeatLoopAsync(server, TimeSpan.FromSeconds(i / (double)agents.Length), stop.Token))).ToList();
        await Task.Delay(warmup);
        foreach (var agent in agents)
        {
            agent.StartMeasuring();
        }
        var revision0 = await revision();
        var cpu0 = cpu();
        var clock = Stopwatch.StartNew();
        await Task.Delay(window);
        var cpu1 = cpu();
        var elapsed = clock.Elapsed;
        foreach (var agent in agents)
        {
            agent.StopMeasuring();
        }
        var revision1 = await revision();
        await stop.CancelAsync();
        await Task.WhenAll(loops);
        var latencies = agents.SelectMany(a => a.TakeLatencies()).Order().ToList();
        return new Figures(elapsed, latencies, agents.Sum(a => a.TakeFailures()), (cpu1 - cpu0).TotalMilliseconds / elapsed.TotalMilliseconds * 100, revision1 - revision0);
    }

    /// <summary>One measured window.</summary>
    private sealed record Figures(TimeSpan Elapsed, List<double> Latencies, int Failures, double CpuPercent, long Writes)
    {
        public double PerSecond => Latencies.Count / Elapsed.TotalSeconds;

        public double Percentile(double percentile) =>
            Latencies.Count == 0 ? 0 : Latencies[Math.Clamp((int)Math.Ceiling(percentile / 100.0 * Latencies.Count) - 1, 0, Latencies.Count - 1)];
    }

    /// <summary>One simulated agent: its identity, its own HTTP/2 connection, its replicas and its latencies.</summary>
    private sealed class SimulatedAgent : IDisposable
    {
        private readonly Uri _server;
        private readonly string _node;
        private readonly X509Certificate2 _certificate;
        private readonly X509Certificate2 _ca;
        private readonly HttpClient _http;
        private readonly DateTimeOffset _started = DateTimeOffset.UtcNow;
        private readonly List<double> _latencies = [];
        private IReadOnlyList<string> _replicas = [];
        private volatile bool _measuring;

        public SimulatedAgent(Uri server, NodeIdentity identity)
        {
            _server = server;
            _node = identity.NodeName;
            _certificate = identity.ClientCertificate();
            _ca = identity.ClusterCa();
            var handler = new SocketsHttpHandler
            {
                PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
                SslOptions = new SslClientAuthenticationOptions
                {
                    RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is X509Certificate2 c && ClusterTrust.Chains(_ca, c),
                    ClientCertificates = [_certificate],
                },
            };
            _http = new HttpClient(handler)
            {
                Timeout = TimeSpan.FromSeconds(30),
                DefaultRequestVersion = HttpVersion.Version20,
                DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            };
        }

        private int _failures;

        /// <summary>The latencies measured so far, forgotten by this call; only while no loop runs.</summary>
        public List<double> TakeLatencies()
        {
            var taken = new List<double>(_latencies);
            _latencies.Clear();
            return taken;
        }

        /// <summary>The failures counted so far, forgotten by this call; only while no loop runs.</summary>
        public int TakeFailures()
        {
            var taken = _failures;
            _failures = 0;
            return taken;
        }

        public async Task RegisterAsync(CancellationToken cancellationToken)
        {
            var registration = new AgentRegistration(_node, ["127.0.0.1"], 2, 4L << 30, new Dictionary<string, string>());
            using var response = await _http.PostAsJsonAsync(new Uri(_server, "v1/agent/register"), registration, CoreJson.Default.AgentRegistration, cancellationToken);
            response.EnsureSuccessStatusCode();
        }

        public async Task FetchAssignmentsAsync(CancellationToken cancellationToken)
        {
            var set = await _http.GetFromJsonAsync(new Uri(_server, $"v1/agent/assignments?node={_node}&index=0"), CoreJson.Default.AssignmentSet, cancellationToken);
            _replicas = [.. set!.Assignments.Select(a => a.ReplicaId)];
        }

        /// <summary>Opens the connection to <paramref name="server"/> with one heartbeat (retried a few times).</summary>
        public async Task ConnectAsync(Uri server, CancellationToken cancellationToken)
        {
            var heartbeat = new AgentHeartbeat(_node, [], null, null, null);
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    using var response = await _http.PostAsJsonAsync(new Uri(server, "v1/agent/heartbeat"), heartbeat, CoreJson.Default.AgentHeartbeat, cancellationToken);
                    response.EnsureSuccessStatusCode();
                    return;
                }
                catch (HttpRequestException) when (attempt < 5)
                {
                    await Task.Delay(200, cancellationToken);
                }
            }
        }

        public void StartMeasuring() => _measuring = true;

        public void StopMeasuring() => _measuring = false;

        /// <summary>Heartbeats every second, starting at <paramref name="phase"/>, on a fixed schedule (a slow answer does not shift the next).</summary>
        public async Task HeartbeatLoopAsync(Uri server, TimeSpan phase, CancellationToken cancellationToken)
        {
            var reports = _replicas.Select((id, i) => new ReplicaReport(id, ReplicaState.Healthy, _started, "", 10_000 + i, null, null, 0.1, 10L << 20)).ToList();
            var heartbeat = new AgentHeartbeat(_node, reports, 3.5, 1L << 30, 0.2);
            var clock = Stopwatch.StartNew();
            var next = phase;
            while (!cancellationToken.IsCancellationRequested)
            {
                var delay = next - clock.Elapsed;
                if (delay > TimeSpan.Zero)
                {
                    try
                    {
                        await Task.Delay(delay, cancellationToken);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                }
                next += TimeSpan.FromSeconds(1);
                var sent = Stopwatch.GetTimestamp();
                try
                {
                    using var response = await _http.PostAsJsonAsync(new Uri(server, "v1/agent/heartbeat"), heartbeat, CoreJson.Default.AgentHeartbeat, cancellationToken);
                    response.EnsureSuccessStatusCode();
                    if (_measuring)
                    {
                        _latencies.Add(Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
                    }
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    return;
                }
                catch (HttpRequestException)
                {
                    if (_measuring)
                    {
                        _failures++;
                    }
                }
            }
        }

        public void Dispose()
        {
            _http.Dispose();
            _certificate.Dispose();
            _ca.Dispose();
        }
    }
}
