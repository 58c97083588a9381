using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Corral.Core;
using Corral.Core.Api;

namespace Corral.Testing.Lab;

/// <summary>
/// The HA lab over real processes: 7 hosts of a <see cref="LabNetwork"/>. h1..h3 run <c>corral server</c> with a
/// managed etcd member each (h1 <c>server init --ha</c>, h2 and h3 <c>server join</c>), the VIP <see cref="Vip"/> on
/// eth0 and the default HA timing; h4..h6 run <c>corral agent</c> knowing the three servers' own addresses (not the VIP:
/// agents fail over among servers by themselves, so node liveness does not depend on where the VIP is); h7 is the
/// client, whose CLI config names only the VIP, as an operator's would.
/// </summary>
/// <remarks>
/// Every server's certificate carries its own address and the VIP (<c>--advertise</c> twice) so clients dialling the
/// VIP trust whichever server holds it. Logs go to a temp directory; <see cref="Logs"/> gives their tails for failure
/// messages. Dispose kills every process of every host and deletes the namespaces (<see cref="LabNetwork"/>), also
/// when a test failed.
/// </remarks>
public sealed class ServerLab : IAsyncDisposable
{
    /// <summary>The virtual IP of the servers (each lab has its own bridge: labs never see each other).</summary>
    public static readonly IPAddress Vip = VipLab.Vip;

    /// <summary>The HTTPS port of every server (each host has its own network stack).</summary>
    public const int Port = 7700;

    /// <summary>Bound for every wait of the lab (startup, leadership, rollouts); generous for a loaded 2-core machine.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    /// <summary>The stack the lab deploys: <c>keep</c> is never changed by a test, <c>roll</c> is changed by deploys.</summary>
    public const string Stack = "lab";

    private readonly TempDirectory _dir = new("corral-serverlab");
    private readonly Process?[] _servers = new Process?[3];
    private readonly Process?[] _agents = new Process?[3];
    private readonly bool[] _paused = new bool[3];
    private readonly Queue<string> _recent = new();
    private int _deploys;

    private readonly string _timing;

    private ServerLab(LabNetwork network, string timing)
    {
        Network = network;
        _timing = timing;
    }

    public LabNetwork Network { get; }

    /// <summary>h1..h3.</summary>
    public IReadOnlyList<LabHost> Servers => [Network[1], Network[2], Network[3]];

    /// <summary>h4..h6.</summary>
    public IReadOnlyList<LabHost> Agents => [Network[4], Network[5], Network[6]];

    /// <summary>h7.</summary>
    public LabHost Client => Network[7];

    /// <summary>The value of <c>ROUND</c> in the <c>roll</c> service's environment of the last deploy.</summary>
    public int Round { get; private set; }

    /// <summary>
    /// Creates the network and starts 3 servers (HA timing profile <paramref name="timing"/>: <c>default</c> or
    /// <c>fast</c>), 3 agents and the stack; waits until every replica runs.
    /// </summary>
    public static async Task<ServerLab> StartAsync(string timing = "default")
    {
        if (!File.Exists("/usr/bin/etcd"))
        {
            throw new InvalidOperationException("etcd is not installed: run scripts/install-deps.sh");
        }
        var lab = new ServerLab(LabNetwork.Create(7), timing);
        try
        {
            await lab.BootAsync().ConfigureAwait(false);
            return lab;
        }
        catch
        {
            await lab.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Server i's name (0-based): s1..s3.</summary>
    public static string Name(int server) => "s" + (server + 1).ToString(CultureInfo.InvariantCulture);

    /// <summary>The index of server <paramref name="name"/> (s1..s3).</summary>
    public static int IndexOf(string name) => int.Parse(name.AsSpan(1), CultureInfo.InvariantCulture) - 1;

    /// <summary>Server i's own URL (not the VIP).</summary>
    public string Url(int server) => $"https://{Servers[server].Address}:{Port}";

    public string DataDir(int server) => _dir.Combine(Name(server));

    /// <summary>True while server i's <c>corral server</c> process runs.</summary>
    public bool IsRunning(int server) => _servers[server] is { HasExited: false };

    /// <summary>Starts (again) <c>corral server run</c> on server i with its data dir and the lab's serving flags.</summary>
    public void StartServer(int server)
    {
        _servers[server] = Servers[server].Start(CorralBinary.Dotnet,
            [CorralBinary.Dll, "server", "run", "--data-dir", DataDir(server), .. ServingFlags()], LogPath(Name(server)), Env);
    }

    /// <summary>
    /// The host dies: every process in it (server, etcd member) is SIGKILLed. Its kernel keeps the VIP, if it had it,
    /// until the address's kernel lifetime runs out (about a second with the default timing; for good with a permanent
    /// address).
    /// </summary>
    public void KillServerHost(int server)
    {
        Servers[server].KillAll();
        _servers[server] = null;
        _paused[server] = false;
    }

    /// <summary>
    /// Freezes server i's <c>corral server</c> process alone (SIGSTOP), as a hung process or a paused VM would: its etcd
    /// member and its kernel go on. <see cref="ResumeServer"/> continues it, and so does <see cref="EnsureSteadyAsync"/>,
    /// so a test that failed while a server was frozen leaves none behind for the next test (disposal SIGKILLs it, which
    /// ends a stopped process too).
    /// </summary>
    public void PauseServer(int server)
    {
        var process = _servers[server] ?? throw new InvalidOperationException($"{Name(server)} does not run");
        _paused[server] = true;
        if (!ClusterProcesses.Signal(process.Id, 19))
        {
            throw new InvalidOperationException($"SIGSTOP to {Name(server)} (pid {process.Id}) failed");
        }
    }

    /// <summary>Continues server i after <see cref="PauseServer"/> (SIGCONT).</summary>
    public void ResumeServer(int server)
    {
        if (_servers[server] is { } process)
        {
            ClusterProcesses.Signal(process.Id, 18);
        }
        _paused[server] = false;
    }

    /// <summary>Agent i's node name (0-based, h4..h6): n4..n6.</summary>
    public string AgentNode(int agent) => "n" + Agents[agent].Name[1..];

    /// <summary>The index of the agent host whose node is <paramref name="node"/>.</summary>
    public int AgentIndexOf(string node) => Enumerable.Range(0, Agents.Count).Single(i => AgentNode(i) == node);

    /// <summary>
    /// Starts agent i (again): with <paramref name="token"/> it joins; without, it runs with the identity stored in its
    /// data dir, as after a crash. Its supervisor and tasks, if they survived, are re-attached.
    /// </summary>
    public void StartAgent(int agent, string? token = null)
    {
        var node = AgentNode(agent);
        var servers = string.Join(',', Enumerable.Range(0, 3).Select(Url));
        string[] join = token is null ? [] : ["--token", token, "--name", node];
        _agents[agent] = Agents[agent].Start(CorralBinary.Dotnet, [CorralBinary.Dll, "agent", "--data-dir", _dir.Combine(node), "--server", servers, .. join], LogPath(node), Env);
    }

    /// <summary>SIGKILLs agent i's <c>corral agent</c> process only: its supervisor and tasks keep running.</summary>
    public void KillAgent(int agent)
    {
        if (_agents[agent] is { HasExited: false } process)
        {
            ClusterProcesses.Signal(process.Id, 9);
            process.WaitForExit(10_000);
        }
        _agents[agent] = null;
    }

    /// <summary>True while agent i's <c>corral agent</c> process runs.</summary>
    public bool IsAgentRunning(int agent) => _agents[agent] is { HasExited: false };

    /// <summary>Agent i's console output (its log).</summary>
    public string AgentLog(int agent) => File.Exists(LogPath(AgentNode(agent))) ? File.ReadAllText(LogPath(AgentNode(agent))) : "";

    /// <summary>Deploys <paramref name="yaml"/> as written from h7.</summary>
    public Task<CliResult> DeployYamlAsync(string yaml, params string[] extra)
    {
        var file = _dir.Combine($"stack-{Interlocked.Increment(ref _deploys).ToString(CultureInfo.InvariantCulture)}.yaml");
        File.WriteAllText(file, yaml);
        return CliAsync(["deploy", "-f", file, "--timeout", "120s", .. extra]);
    }

    /// <summary>A directory of the lab's own, deleted with it.</summary>
    public string Scratch(string name)
    {
        var path = _dir.Combine(name);
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>SIGTERMs server i and waits until it and its etcd member are gone (an orderly stop, e.g. for an upgrade).</summary>
    public async Task StopServerAsync(int server)
    {
        var process = _servers[server] ?? throw new InvalidOperationException($"{Name(server)} does not run");
        ClusterProcesses.Signal(process.Id, 15);
        using (var wait = new CancellationTokenSource(Timeout))
        {
            try
            {
                await process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"{Name(server)} did not stop within {Timeout.TotalSeconds} s of SIGTERM\n{Logs()}");
            }
        }
        await WaitAsync(() => Task.FromResult(Servers[server].Pids().Count == 0 ? (bool?)true : null), $"every process of {Servers[server].Name} (its etcd member) to exit after SIGTERM").ConfigureAwait(false);
        _servers[server] = null;
    }

    /// <summary>The cluster CA, which every server's certificate chains to.</summary>
    public X509Certificate2 LoadCa() =>
        X509Certificate2.CreateFromPem(JsonSerializer.Deserialize(File.ReadAllText(ClientConfig), CoreJson.Default.ClientConfig)!.CaCertificatePem);

    /// <summary>The log of <c>corral server</c> on server i (every run appended).</summary>
    public string ServerLog(int server) => File.Exists(LogPath(Name(server))) ? File.ReadAllText(LogPath(Name(server))) : "";

    /// <summary>Runs <c>corral ARGS</c> on the client host h7 (its config names the VIP only).</summary>
    public Task<CliResult> CliAsync(params string[] args) => RunCliAsync(Client, ClientConfig, args);

    /// <summary>Runs <c>corral ARGS</c> on the client host h7 against server i's own address only.</summary>
    public Task<CliResult> CliViaAsync(int server, params string[] args) => RunCliAsync(Client, ClientConfig, [.. args, "--addr", Url(server)]);

    /// <summary>Runs <c>corral ARGS</c> on server i's own host against its own address (its view, e.g. while cut off).</summary>
    public Task<CliResult> CliOnServerHostAsync(int server, params string[] args) => RunCliAsync(Servers[server], ClientConfig, [.. args, "--addr", Url(server)]);

    /// <summary><c>corral status -o json</c> through the VIP (with a short retry budget), or null when it fails.</summary>
    public async Task<ClusterStatus?> StatusAsync(int? server = null)
    {
        var run = server is { } s ? await CliViaAsync(s, "status", "-o", "json", "--retry-for", "0").ConfigureAwait(false) : await CliAsync("status", "-o", "json", "--retry-for", "0").ConfigureAwait(false);
        return run.Code == 0 ? JsonSerializer.Deserialize(run.Out, CoreJson.Default.ClusterStatus) : null;
    }

    /// <summary>
    /// Waits until <c>corral status</c> through the VIP names a leader (accepted by <paramref name="accept"/>, if given)
    /// that runs, and that leader's host holds the VIP; returns its index.
    /// </summary>
    public Task<int> WaitLeaderAsync(Func<int, bool>? accept = null, TimeSpan? timeout = null) => WaitAsync(async () =>
    {
        if (await StatusAsync().ConfigureAwait(false) is not { Leader: { } name })
        {
            return (int?)null;
        }
        var index = IndexOf(name);
        return IsRunning(index) && Servers[index].HasAddress(Vip) && (accept is null || accept(index)) ? index : null;
    }, "a leader serving through the VIP and holding it", timeout);

    /// <summary>
    /// Brings the lab back to its steady state for the next test: continues frozen servers, heals cut hosts, removes
    /// blackhole routes, starts every agent and server that does not run, and waits until the three etcd members are healthy, one leader holds the VIP, the three nodes are up and
    /// every replica of the stack runs.
    /// </summary>
    public async Task EnsureSteadyAsync()
    {
        for (var i = 0; i < 3; i++)
        {
            if (_paused[i])
            {
                ResumeServer(i);
            }
        }
        foreach (var host in Servers.Concat(Agents).Where(h => h.IsCutOff))
        {
            host.Heal();
        }
        foreach (var host in Agents)
        {
            host.ClearBlackholes();
        }
        for (var i = 0; i < Agents.Count; i++)
        {
            if (!IsAgentRunning(i))
            {
                StartAgent(i);
            }
        }
        for (var i = 0; i < 3; i++)
        {
            if (!IsRunning(i))
            {
                Servers[i].KillAll();
                StartServer(i);
            }
        }
        await WaitSteadyAsync().ConfigureAwait(false);
    }

    /// <summary>Waits until 3 healthy members, a leader, 3 nodes up and every replica running (through the VIP).</summary>
    public Task WaitSteadyAsync() => WaitAsync(async () =>
    {
        var status = await StatusAsync().ConfigureAwait(false);
        var steady = status is { Leader: not null, StoreHealthy: true }
            && status.StoreMembers.Count == 3 && status.StoreMembers.All(m => m.Healthy)
            && status.Nodes.Count == 3 && status.Nodes.All(n => n.Node.Status == Corral.Core.Cluster.NodeStatus.Ready)
            && status.Services.Count(s => s.Name is "keep" or "roll") == 2
            && status.Services.Where(s => s.Name is "keep" or "roll").All(s => s.Running == s.Desired && s.Desired == 3)
            && ReplicaProcesses().Count == 6;
        return steady ? (bool?)true : null;
    }, "the lab to be steady (3 healthy members, a leader, 3 nodes ready, 6 replicas running)");

    /// <summary>
    /// Deploys the stack with <c>roll</c>'s <c>ROUND</c> = <paramref name="round"/> from h7 (the CLI retries while no
    /// server answers). The stack file is written first, so a retried deploy sends the same file.
    /// </summary>
    public Task<CliResult> DeployAsync(int round, params string[] extra)
    {
        var file = _dir.Combine($"stack-{Interlocked.Increment(ref _deploys).ToString(CultureInfo.InvariantCulture)}.yaml");
        File.WriteAllText(file, StackYaml(round));
        Round = round;
        return CliAsync(["deploy", "-f", file, "--timeout", "120s", .. extra]);
    }

    /// <summary>The replica processes on the agent hosts now, read from the kernel (<c>ip netns pids</c> and /proc).</summary>
    public IReadOnlyList<ReplicaProcess> ReplicaProcesses()
    {
        var found = new List<ReplicaProcess>();
        foreach (var host in Agents)
        {
            foreach (var pid in host.Pids())
            {
                string[] argv;
                string environ;
                try
                {
                    argv = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries);
                    environ = File.ReadAllText($"/proc/{pid}/environ");
                }
                catch (IOException)
                {
                    continue;
                }
                catch (UnauthorizedAccessException)
                {
                    continue;
                }
                if (argv is [.., "/bin/sleep" or "sleep", var marker] && (marker == KeepMarker || marker == RollMarker))
                {
                    var round = environ.Split('\0').FirstOrDefault(e => e.StartsWith("ROUND=", StringComparison.Ordinal))?["ROUND=".Length..] ?? "";
                    found.Add(new ReplicaProcess(host.Name, pid, marker == KeepMarker ? "keep" : "roll", round, StartTime(pid)));
                }
            }
        }
        return found;
    }

    /// <summary>Events after store revision <paramref name="after"/> (through the VIP).</summary>
    public async Task<IReadOnlyList<ClusterEvent>> EventsAsync(long after)
    {
        var run = await CliAsync("events", "--index", after.ToString(CultureInfo.InvariantCulture), "-o", "json").ConfigureAwait(false);
        if (run.Code != 0)
        {
            throw new InvalidOperationException($"corral events failed: {run}");
        }
        return JsonSerializer.Deserialize(run.Out, CoreJson.Default.EventPage)!.Events;
    }

    /// <summary>Polls <paramref name="probe"/> until non-null; fails after <paramref name="timeout"/> (default <see cref="Timeout"/>) with every log's tail.</summary>
    public async Task<T> WaitAsync<T>(Func<Task<T?>> probe, string what, TimeSpan? timeout = null)
        where T : struct
    {
        var limit = timeout ?? Timeout;
        var clock = Stopwatch.StartNew();
        Exception? last = null;
        while (true)
        {
            try
            {
                if (await probe().ConfigureAwait(false) is { } value)
                {
                    return value;
                }
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                last = e;
            }
            if (clock.Elapsed > limit)
            {
                throw new TimeoutException($"timed out after {limit.TotalSeconds:0.#} s waiting for {what}{(last is null ? "" : $" (last error: {last.Message})")}\n--- the last CLI runs ---\n{RecentCliRuns()}\n{Logs()}");
            }
            await Task.Delay(100).ConfigureAwait(false);
        }
    }

    /// <summary>Like <see cref="WaitAsync{T}"/> for a reference result.</summary>
    public async Task<T> WaitValueAsync<T>(Func<Task<T?>> probe, string what, TimeSpan? timeout = null)
        where T : class
    {
        T? found = null;
        await WaitAsync(async () => (found = await probe().ConfigureAwait(false)) is null ? (bool?)null : true, what, timeout).ConfigureAwait(false);
        return found!;
    }

    /// <summary>The tail of every log of the lab (servers, joins, agents), for failure messages.</summary>
    public string Logs(int tail = 3000)
    {
        var text = new StringBuilder();
        foreach (var file in Directory.GetFiles(_dir.Path, "*.log").Order(StringComparer.Ordinal))
        {
            var content = File.ReadAllText(file);
            text.Append("--- ").Append(Path.GetFileName(file)).Append(" ---\n").Append(content.Length <= tail ? content : content[^tail..]).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>
    /// Copies every process's whole log to a new directory under <c>/tmp/corral-lab-logs/</c> (kept after the lab is
    /// gone) and returns its path, for a failure message: the tails in <see cref="Logs"/> rarely reach back far enough.
    /// </summary>
    public string SaveLogs(string why)
    {
        var target = Path.Combine(Path.GetTempPath(), "corral-lab-logs", DateTimeOffset.UtcNow.ToString("yyyyMMdd-HHmmss-fff", CultureInfo.InvariantCulture) + "-" + why);
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(_dir.Path, "*.log"))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)), overwrite: true);
        }
        return target;
    }

    public async ValueTask DisposeAsync()
    {
        Network.Dispose();
        _dir.Dispose();
        await Task.CompletedTask.ConfigureAwait(false);
    }

    private const string KeepMarker = "86401";
    private const string RollMarker = "86402";

    private static readonly IReadOnlyDictionary<string, string> Env = new Dictionary<string, string> { ["DOTNET_NOLOGO"] = "1" };

    /// <summary>The admin client config (CA, admin key) whose address is the VIP.</summary>
    public string ClientConfig => _dir.Combine("client.json");

    private string LogPath(string name) => _dir.Combine(name + ".log");

    private string[] ServingFlags() =>
        ["--listen", "0.0.0.0", "--port", Port.ToString(CultureInfo.InvariantCulture), "--vip", Vip + "/24", "--vip-interface", "eth0", "--timing", _timing];

    private static string StackYaml(int round) => $$"""
        stack: {{Stack}}
        services:
          keep:
            command: /bin/sleep
            args: ["{{KeepMarker}}"]
            replicas: 3
          roll:
            command: /bin/sleep
            args: ["{{RollMarker}}"]
            replicas: 3
            env: { ROUND: "{{round.ToString(CultureInfo.InvariantCulture)}}" }
        """;

    private async Task BootAsync()
    {
        var h1 = Servers[0];
        var init = await RunCliAsync(h1, ClientConfig, ["server", "init", "--ha", "--data-dir", DataDir(0), "--name", Name(0),
            "--port", Port.ToString(CultureInfo.InvariantCulture), "--advertise", h1.Address.ToString(), "--advertise", Vip.ToString(),
            "--etcd-address", h1.Address.ToString(), "--timing", _timing]).ConfigureAwait(false);
        if (init.Code != 0)
        {
            throw new InvalidOperationException($"corral server init --ha on h1 failed: {init}");
        }
        var admin = JsonSerializer.Deserialize(await File.ReadAllTextAsync(Path.Combine(DataDir(0), "admin.json")).ConfigureAwait(false), CoreJson.Default.ClientConfig)!;
        await File.WriteAllTextAsync(ClientConfig, JsonSerializer.Serialize(admin with { Addresses = [$"https://{Vip}:{Port}"] }, CoreJson.Default.ClientConfig)).ConfigureAwait(false);
        StartServer(0);
        await WaitLeaderAsync().ConfigureAwait(false);

        var serverToken = await TokenAsync("server", 2).ConfigureAwait(false);
        for (var i = 1; i < 3; i++)
        {
            var members = i + 1;
            var joined = i;
            await WaitAsync(async () => await StatusAsync().ConfigureAwait(false) is { StoreHealthy: true, Leader: not null } s && s.StoreMembers.Count == i && s.StoreMembers.All(m => m.Healthy) ? (bool?)true : null,
                $"a healthy store of {i} member(s) before {Name(i)} joins").ConfigureAwait(false);
            // `server join` itself asks again while the first server answers 503 (no quorum for a moment after the
            // previous member was added).
            StartJoin(i, serverToken);
            await WaitAsync(async () =>
            {
                if (!IsRunning(joined))
                {
                    throw new Xunit.Sdk.XunitException($"{Name(joined)}'s server join exited\n{Logs()}");
                }
                var status = await StatusAsync().ConfigureAwait(false);
                return status is not null && status.StoreMembers.Count == members && status.StoreMembers.All(m => m.Healthy) ? (bool?)true : null;
            }, $"{Name(i)} to join with a healthy etcd member").ConfigureAwait(false);
        }

        var agentToken = await TokenAsync("agent", 3).ConfigureAwait(false);
        for (var i = 0; i < Agents.Count; i++)
        {
            StartAgent(i, agentToken);
        }
        await WaitAsync(async () => await StatusAsync().ConfigureAwait(false) is { } s && s.Nodes.Count(n => n.Node.Status == Corral.Core.Cluster.NodeStatus.Ready) == 3 ? (bool?)true : null,
            "3 agents to join and be ready").ConfigureAwait(false);
        var deploy = await DeployAsync(0).ConfigureAwait(false);
        if (deploy.Code != 0)
        {
            throw new InvalidOperationException($"the first deploy failed: {deploy}\n{Logs()}");
        }
        await WaitSteadyAsync().ConfigureAwait(false);
    }

    private void StartJoin(int server, string token)
    {
        var host = Servers[server];
        _servers[server] = host.Start(CorralBinary.Dotnet,
        [
            CorralBinary.Dll, "server", "join", Url(0), "--token", token, "--data-dir", DataDir(server), "--name", Name(server),
            "--advertise", host.Address.ToString(), "--advertise", Vip.ToString(), "--etcd-address", host.Address.ToString(), .. ServingFlags(),
        ], LogPath(Name(server)), Env);
    }

    private async Task<string> TokenAsync(string role, int uses)
    {
        var run = await CliAsync("node", "token", "create", "--role", role, "--uses", uses.ToString(CultureInfo.InvariantCulture), "--ttl", "1h", "-o", "json").ConfigureAwait(false);
        if (run.Code != 0)
        {
            throw new InvalidOperationException($"corral node token create --role {role} failed: {run}\n{Logs()}");
        }
        return JsonSerializer.Deserialize(run.Out, CoreJson.Default.JoinTokenCreated)!.Token;
    }

    /// <summary>The last few CLI runs (host, arguments, result), for failure messages.</summary>
    public string RecentCliRuns()
    {
        lock (_recent)
        {
            return string.Join("\n", _recent);
        }
    }

    private async Task<CliResult> RunCliAsync(LabHost host, string config, IReadOnlyList<string> args)
    {
        var result = await RunCliCoreAsync(host, config, args).ConfigureAwait(false);
        lock (_recent)
        {
            var text = result.ToString();
            _recent.Enqueue($"[{DateTime.UtcNow:HH:mm:ss.fff}] {host.Name}: corral {string.Join(' ', args)}: {(text.Length > 6000 ? text[..6000] + "…" : text)}");
            while (_recent.Count > 6)
            {
                _recent.Dequeue();
            }
        }
        return result;
    }

    private static async Task<CliResult> RunCliCoreAsync(LabHost host, string config, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo("/usr/sbin/ip")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var arg in (string[])["netns", "exec", host.Namespace, CorralBinary.Dotnet, CorralBinary.Dll, .. args])
        {
            psi.ArgumentList.Add(arg);
        }
        psi.Environment["CORRAL_CONFIG"] = config;
        psi.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start corral");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(180));
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            throw new TimeoutException($"corral {string.Join(' ', args)} on {host.Name} did not finish within 180 s");
        }
        return new CliResult(process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }

    /// <summary>The process's start time in clock ticks since boot (/proc/PID/stat field 22): tells a restarted PID apart.</summary>
    private static long StartTime(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[19], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return -1;
        }
    }
}
