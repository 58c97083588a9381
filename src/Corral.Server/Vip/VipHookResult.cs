namespace Corral.Server.Vip;

/// <summary>How one notify hook ran.</summary>
/// <param name="Path">The hook's path.</param>
/// <param name="Role">leader, follower or fault.</param>
/// <param name="ExitCode">Its exit code; null when it was killed or never started.</param>
/// <param name="TimedOut">True when it was killed at the timeout.</param>
/// <param name="Output">Its stdout and stderr interleaved, at most <see cref="VipHooks.MaxOutput"/> characters.</param>
/// <param name="Elapsed">How long it ran.</param>
public sealed record VipHookResult(string Path, string Role, int? ExitCode, bool TimedOut, string Output, TimeSpan Elapsed)
{
    /// <summary>True when the hook exited with 0.</summary>
    public bool Succeeded => ExitCode == 0;

    /// <summary>One line for the event log: what ran, how it ended, then its output.</summary>
    public string Describe()
    {
        var outcome = TimedOut ? "was killed after the timeout" : ExitCode is { } code ? $"exited {code}" : "did not start";
        var text = $"{Role} hook {Path} {outcome} in {Elapsed.TotalMilliseconds:0} ms";
        return Output.Length == 0 ? text : text + ": " + Output;
    }
}
