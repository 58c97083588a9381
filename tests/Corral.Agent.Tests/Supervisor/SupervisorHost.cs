using System.Diagnostics;
using Corral.Agent.Supervisor;
using Corral.Testing;

namespace Corral.Agent.Tests.Supervisor;

/// <summary>A real <c>corral supervisor</c> process on a temp data dir, killed (with every task it started) on dispose.</summary>
internal sealed class SupervisorHost : IAsyncDisposable
{
    private SupervisorHost(TempDirectory dir, ProcessReaper reaper)
    {
        Dir = dir;
        Reaper = reaper;
        DataDir = dir.Combine("supervisor");
        Client = new SupervisorClient(Path.Combine(DataDir, "supervisor.sock"));
    }

    public TempDirectory Dir { get; }

    public ProcessReaper Reaper { get; }

    public string DataDir { get; }

    public SupervisorClient Client { get; }

    public Process? Process { get; private set; }

    public SupervisorHello? Hello { get; private set; }

    public static async Task<SupervisorHost> StartAsync()
    {
        var host = new SupervisorHost(new TempDirectory("corral-sup"), new ProcessReaper());
        await host.LaunchAsync();
        return host;
    }

    /// <summary>Starts a (new) supervisor process on the same data dir and waits until it answers.</summary>
    public async Task LaunchAsync()
    {
        Process = Reaper.Start(CorralBinary.Dotnet, [CorralBinary.Dll, "supervisor", "--data-dir", DataDir], Dir.Combine("supervisor.out"));
        var pid = Process.Id;
        Hello = await Eventually.ValueAsync(
            async () =>
            {
                var hello = await Client.HelloAsync(CancellationToken.None);
                return hello.Pid == pid ? hello : null;
            },
            TimeSpan.FromSeconds(30),
            "the supervisor to answer hello" + Environment.NewLine + Output());
    }

    public string Output() => File.Exists(Dir.Combine("supervisor.out")) ? File.ReadAllText(Dir.Combine("supervisor.out")) : string.Empty;

    /// <summary>A task spec in its own directory under the temp dir; <paramref name="script"/> runs under <c>/bin/sh -c</c>.</summary>
    public SupervisedTaskSpec ShellTask(string id, string script, long stopTimeoutMs = 10_000)
    {
        var taskDir = Dir.Combine("tasks", id);
        Directory.CreateDirectory(taskDir);
        return new SupervisedTaskSpec
        {
            Id = id,
            Command = "/bin/sh",
            Args = ["-c", script],
            Env = new Dictionary<string, string> { ["PATH"] = "/usr/local/bin:/usr/bin:/bin" },
            WorkingDirectory = taskDir,
            StopTimeoutMs = stopTimeoutMs,
            LogDirectory = Path.Combine(taskDir, "logs"),
        };
    }

    /// <summary>Registers a running task's session with the reaper, so the test kills it even if the supervisor cannot.</summary>
    public SupervisedTaskInfo Track(SupervisedTaskInfo info)
    {
        if (info.Pid > 0)
        {
            Reaper.TrackSession(info.Pid);
        }
        return info;
    }

    public async ValueTask DisposeAsync()
    {
        Reaper.Dispose();
        await Task.Yield();
        Dir.Dispose();
    }
}
