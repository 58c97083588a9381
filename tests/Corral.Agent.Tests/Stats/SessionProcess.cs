using System.Diagnostics;
using Corral.Agent.Tests.TestSupport;

namespace Corral.Agent.Tests.Stats;

/// <summary>A shell script run under <c>setsid</c>, so its pid is its session and group id; the whole group is killed on dispose.</summary>
internal sealed class SessionProcess : IDisposable
{
    private readonly Process _process;

    private SessionProcess(Process process)
    {
        _process = process;
        Pid = process.Id;
    }

    public int Pid { get; }

    public static SessionProcess StartScript(string script) => Start("sh", "-c", script);

    public static SessionProcess Start(string program, params string[] args)
    {
        var setsid = new[] { "/usr/bin/setsid", "/bin/setsid" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("setsid (util-linux) is required by this test and was not found");
        var info = new ProcessStartInfo(setsid) { UseShellExecute = false };
        info.ArgumentList.Add(program);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        return new SessionProcess(Process.Start(info) ?? throw new InvalidOperationException("setsid did not start"));
    }

    public void Dispose()
    {
        ProcessGroups.Kill(Pid);
        _process.WaitForExit(10_000);
        _process.Dispose();
    }
}
