using System.Diagnostics;
using System.Text;
using Corral.Client;
using Corral.Testing;

namespace Corral.Cli.Tests;

/// <summary>
/// Where <c>corral agent</c> and <c>corral server join</c> take the join token from (<c>--token-file</c>,
/// <c>$CORRAL_JOIN_TOKEN</c>, <c>--token</c>), with real <c>corral</c> child processes joining a real server: a token
/// from a file or the environment never shows in the process list.
/// </summary>
public sealed class JoinTokenSourceTests : CliTestBase, IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    private const string Warning = "warning: --token puts the join token in the process list";

    private readonly TempDirectory _dir = new("corral-join-token");
    private readonly ProcessReaper _reaper = new();

    public void Dispose()
    {
        try
        {
            ClusterProcesses.KillAllUnder(_dir.Path);
        }
        finally
        {
            _reaper.Dispose();
            _dir.Dispose();
        }
    }

    [Fact]
    public async Task Agent_TokenFromFile_Joins_TokenNeverInItsCommandLine_NoWarning()
    {
        var token = await CreateTokenAsync();
        var file = TokenFile("token", token.Token, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var agent = StartAgent("f1", ["--token-file", file]);
        await WaitRegisteredAsync(agent, "f1");

        Assert.DoesNotContain(Secret(token.Token), CommandLine(agent.Id), StringComparison.Ordinal);
        Assert.DoesNotContain(Warning, Log("f1"), StringComparison.Ordinal);
        Assert.DoesNotContain("warning", Log("f1"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Agent_TokenFromEnvironment_Joins_NotInItsCommandLine_NorInheritedByTheSupervisor()
    {
        var token = await CreateTokenAsync();

        var agent = StartAgent("e1", [], new Dictionary<string, string> { ["CORRAL_JOIN_TOKEN"] = token.Token });
        await WaitRegisteredAsync(agent, "e1");

        Assert.DoesNotContain(Secret(token.Token), CommandLine(agent.Id), StringComparison.Ordinal);
        Assert.DoesNotContain(Warning, Log("e1"), StringComparison.Ordinal);
        var supervisor = Assert.Single(ClusterProcesses.Find(_dir.Combine("e1")), p => p.CommandLine.Contains(" supervisor ", StringComparison.Ordinal));
        Assert.NotNull(ClusterProcesses.EnvironmentVariable(supervisor.Pid, "PATH"));
        Assert.Null(ClusterProcesses.EnvironmentVariable(supervisor.Pid, "CORRAL_JOIN_TOKEN"));

        // Started again with the variable still set (as a unit file keeps it): the stored identity is used, no join.
        ClusterProcesses.Signal(agent.Id, 15);
        using (var wait = new CancellationTokenSource(Timeout))
        {
            await agent.WaitForExitAsync(wait.Token);
        }
        var again = StartAgent("e1", [], new Dictionary<string, string> { ["CORRAL_JOIN_TOKEN"] = token.Token }, log: "e1-again");
        await Eventually.ValueAsync(() =>
        {
            Assert.False(again.HasExited, "the restarted agent exited\n" + Log("e1-again"));
            return Task.FromResult(Log("e1-again").Contains("corral agent pid", StringComparison.Ordinal) ? "running" : null);
        }, Timeout, "the agent to start again on its stored identity");
        Assert.Contains("CORRAL_JOIN_TOKEN is ignored", Log("e1-again"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Agent_TokenAsArgument_JoinsAndWarnsOnStderrThatItIsInTheProcessList()
    {
        var token = await CreateTokenAsync();

        var agent = StartAgent("a1", ["--token", token.Token]);
        await WaitRegisteredAsync(agent, "a1");

        Assert.Contains(Warning, Log("a1"), StringComparison.Ordinal);
        Assert.Contains("use --token-file FILE or $CORRAL_JOIN_TOKEN instead", Log("a1"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Agent_TokenFileReadableByOthers_JoinsWithAWarningToChmodIt()
    {
        var token = await CreateTokenAsync();
        var file = TokenFile("open-token", token.Token + "\n", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var agent = StartAgent("w1", ["--token-file", file]);
        await WaitRegisteredAsync(agent, "w1");

        Assert.Contains($"warning: --token-file {file} can be read by other users (mode 0644); 'chmod 600 {file}'", Log("w1"), StringComparison.Ordinal);
    }

    public static TheoryData<string, int, string> Refusals => new()
    {
        { "both", ExitCodes.Usage, "give the join token one way" },
        { "missing", ExitCodes.Failure, "cannot read --token-file" },
        { "empty", ExitCodes.Usage, "is empty; it must hold the join token" },
        { "two-lines", ExitCodes.Usage, "has 2 lines; it must hold one join token" },
        { "bad-name", ExitCodes.Usage, "node name '..' must be 1 to 64 characters" },
        { "bad-label", ExitCodes.Usage, "--label 'zone=a b': label value 'a b' must be" },
        { "malformed", ExitCodes.Usage, "--token-file" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task Agent_BadTokenSourceNameOrLabel_ExitsWithTheReason_NothingJoinsAndTheTokenIsKept(string kind, int exit, string message)
    {
        var token = await CreateTokenAsync();
        var file = TokenFile("token", token.Token, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        string[] args = kind switch
        {
            "both" => ["--token", token.Token, "--token-file", file],
            "missing" => ["--token-file", _dir.Combine("no-such-file")],
            "empty" => ["--token-file", TokenFile("empty", "\n  \n", UnixFileMode.UserRead)],
            "two-lines" => ["--token-file", TokenFile("two", token.Token + "\n" + token.Token + "\n", UnixFileMode.UserRead)],
            "bad-name" => ["--token-file", file, "--name", ".."],
            "bad-label" => ["--token-file", file, "--label", "zone=a b"],
            _ => ["--token-file", TokenFile("malformed-token", "K10nonsense", UnixFileMode.UserRead)],
        };

        var agent = Start(kind, ["agent", "--data-dir", _dir.Combine(kind), "--server", Server.Address, .. (kind == "bad-name" ? args : [.. args, "--name", "r1"])]);
        using (var wait = new CancellationTokenSource(Timeout))
        {
            await agent.WaitForExitAsync(wait.Token);
        }

        var log = Log(kind);
        Assert.True(agent.ExitCode == exit, $"expected exit {exit}, got {agent.ExitCode}\n{log}");
        Assert.Contains(message, log, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir.Combine(kind), "identity")));
        using var client = Server.Client();
        Assert.Equal(1, (await client.ListJoinTokensAsync(CancellationToken.None)).Single(t => t.Id == token.Info.Id).UsesLeft);
    }

    [Fact]
    public async Task ServerJoin_TokenSources_OneWayOnly_ArgumentIsWarned_NoneIsExit2()
    {
        var token = (await CreateTokenAsync("server")).Token;
        var file = TokenFile("server-token", token, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        string[] common = ["server", "join", "https://127.0.0.1:1", "--data-dir", _dir.Combine("s2"), "--name", "s2"];

        var both = await RunAsync("sj-both", [.. common, "--token", token, "--token-file", file]);
        Assert.True(both.ExitCode == ExitCodes.Usage, both.Output);
        Assert.Contains("give the join token one way", both.Output, StringComparison.Ordinal);

        var none = await RunAsync("sj-none", common);
        Assert.True(none.ExitCode == ExitCodes.Usage, none.Output);
        Assert.Contains("needs a join token with role server: --token-file FILE, $CORRAL_JOIN_TOKEN or --token", none.Output, StringComparison.Ordinal);

        var badName = await RunAsync("sj-name", ["server", "join", "https://127.0.0.1:1", "--data-dir", _dir.Combine("s3"), "--name", "-s3", "--token-file", file]);
        Assert.True(badName.ExitCode == ExitCodes.Usage, badName.Output);
        Assert.Contains("server name '-s3' must be", badName.Output, StringComparison.Ordinal);

        // Past the token, nothing answers at port 1: exit 6 (docs/cli.md; it was 1). Only the argument is warned about.
        var argument = await RunAsync("sj-arg", [.. common, "--token", token]);
        Assert.True(argument.ExitCode == ExitCodes.Unavailable && argument.Output.Contains("cannot reach https://127.0.0.1:1/", StringComparison.Ordinal), argument.Output);
        Assert.Contains("corral server join: " + Warning, argument.Output, StringComparison.Ordinal);
        var fromFile = await RunAsync("sj-file", [.. common, "--token-file", file]);
        Assert.True(fromFile.ExitCode == ExitCodes.Unavailable && fromFile.Output.Contains("cannot reach https://127.0.0.1:1/", StringComparison.Ordinal), fromFile.Output);
        Assert.DoesNotContain("warning", fromFile.Output, StringComparison.Ordinal);
        var fromEnvironment = await RunAsync("sj-env", common, new Dictionary<string, string> { ["CORRAL_JOIN_TOKEN"] = token });
        Assert.True(fromEnvironment.ExitCode == ExitCodes.Unavailable && fromEnvironment.Output.Contains("cannot reach https://127.0.0.1:1/", StringComparison.Ordinal), fromEnvironment.Output);
        Assert.DoesNotContain("warning", fromEnvironment.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_AgentAndServerJoin_OfferTokenFileAndTheVariable()
    {
        foreach (var verb in new[] { new[] { "agent", "--help" }, new[] { "server", "join", "--help" } })
        {
            var run = await CliRun.RunAsync(verb);
            Assert.True(run.ExitCode == ExitCodes.Ok, run.ToString());
            Assert.Contains("--token-file", run.Out, StringComparison.Ordinal);
            Assert.Contains("$CORRAL_JOIN_TOKEN", run.Out, StringComparison.Ordinal);
            Assert.Contains("process list", run.Out, StringComparison.Ordinal);
        }
    }

    private async Task<Corral.Core.Api.JoinTokenCreated> CreateTokenAsync(string role = "agent")
    {
        using var client = Server.Client();
        return await client.CreateJoinTokenAsync("10m", 1, role, CancellationToken.None);
    }

    /// <summary>The token's secret: what must never be readable by others.</summary>
    private static string Secret(string token) => token[(token.LastIndexOf('.') + 1)..];

    private string TokenFile(string name, string text, UnixFileMode mode)
    {
        var path = _dir.Combine(name);
        System.IO.File.WriteAllText(path, text);
        System.IO.File.SetUnixFileMode(path, mode);
        return path;
    }

    private Process StartAgent(string node, string[] tokenArgs, IReadOnlyDictionary<string, string>? env = null, string? log = null) =>
        Start(log ?? node, ["agent", "--data-dir", _dir.Combine(node), "--server", Server.Address, "--name", node, .. tokenArgs], env);

    private Process Start(string log, string[] args, IReadOnlyDictionary<string, string>? env = null)
    {
        var environment = new Dictionary<string, string> { ["DOTNET_NOLOGO"] = "1", ["CORRAL_JOIN_TOKEN"] = "" };
        foreach (var (key, value) in env ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }
        return _reaper.Start(CorralBinary.Dotnet, [CorralBinary.Dll, .. args], _dir.Combine(log + ".log"), environment);
    }

    private async Task<(int ExitCode, string Output)> RunAsync(string log, string[] args, IReadOnlyDictionary<string, string>? env = null)
    {
        var process = Start(log, args, env);
        using var wait = new CancellationTokenSource(Timeout);
        await process.WaitForExitAsync(wait.Token);
        return (process.ExitCode, Log(log));
    }

    private async Task WaitRegisteredAsync(Process agent, string node)
    {
        using var client = Server.Client();
        await Eventually.ValueAsync(async () =>
        {
            Assert.False(agent.HasExited, $"agent {node} exited\n" + Log(node));
            return (await client.ListNodesAsync(CancellationToken.None)).FirstOrDefault(n => n.Node.Name == node);
        }, Timeout, $"node {node} to register");
    }

    private static string CommandLine(int pid) =>
        Encoding.UTF8.GetString(System.IO.File.ReadAllBytes($"/proc/{pid}/cmdline")).Replace('\0', ' ');

    private string Log(string name)
    {
        try
        {
            return System.IO.File.ReadAllText(_dir.Combine(name + ".log"));
        }
        catch (IOException)
        {
            return $"(no {name}.log)";
        }
    }
}
