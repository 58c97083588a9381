using Corral.Core;
using Corral.Core.Tasks;

namespace Corral.Agent.Restarts;

/// <summary>
/// Decides, exit by exit, whether a task is restarted and after what delay, under its <see cref="RestartPolicy"/>.
/// </summary>
/// <remarks>
/// At most <see cref="RestartPolicy.MaxAttempts"/> restarts are granted within any sliding
/// <see cref="RestartPolicy.Window"/>; the next exit after that ends the replica as <see cref="ReplicaState.Failed"/>.
/// The delay before the restart granted when <c>n</c> restarts already lie in the window is
/// <c>min(Backoff · 2ⁿ, MaxBackoff)</c>, then scaled by a uniform random factor in <c>[1 − Jitter, 1 + Jitter]</c>.
/// One tracker follows one replica; it is not thread-safe.
/// </remarks>
public sealed class RestartTracker
{
    private const int MaxStderrTail = 512;

    private readonly RestartPolicy _policy;
    private readonly TimeProvider _time;
    private readonly Random _random;
    private readonly Queue<DateTimeOffset> _restarts = new();

    /// <param name="policy">The policy; negative or out-of-range values are treated as their nearest valid value.</param>
    /// <param name="time">The clock the window is measured on.</param>
    /// <param name="random">Source of jitter; a shared unseeded generator when null.</param>
    public RestartTracker(RestartPolicy policy, TimeProvider time, Random? random = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(time);
        _policy = policy;
        _time = time;
        _random = random ?? Random.Shared;
    }

    /// <summary>Restarts granted within the window ending now.</summary>
    public int RestartsInWindow
    {
        get
        {
            Prune(_time.GetUtcNow());
            return _restarts.Count;
        }
    }

    /// <summary>Forgets every restart granted so far, e.g. after the task was stopped and started on purpose.</summary>
    public void Reset() => _restarts.Clear();

    /// <summary>
    /// Records an exit and decides what follows. A granted restart counts against the window from now.
    /// </summary>
    /// <param name="exitCode">The exit code; <c>128 + N</c> means death by signal <c>N</c>.</param>
    /// <param name="stderrTail">The last lines the task wrote to stderr; quoted in the reason of a failure (last 512 characters).</param>
    public RestartDecision OnExit(int exitCode, string stderrTail)
    {
        var now = _time.GetUtcNow();
        Prune(now);
        var exit = DescribeExit(exitCode);
        var failedExit = exitCode != 0;

        if (_policy.Mode == RestartMode.Never || (_policy.Mode == RestartMode.OnFailure && !failedExit))
        {
            return failedExit
                ? new RestartDecision(false, TimeSpan.Zero, ReplicaState.Failed, $"{exit}; restart policy {ModeName(_policy.Mode)}{StderrSuffix(stderrTail)}")
                : new RestartDecision(false, TimeSpan.Zero, ReplicaState.Exited, $"{exit}; restart policy {ModeName(_policy.Mode)}");
        }

        var maxAttempts = Math.Max(0, _policy.MaxAttempts);
        var window = Durations.Format(_policy.Window);
        if (_restarts.Count >= maxAttempts)
        {
            var loop = failedExit ? "crash loop" : "restart loop";
            return new RestartDecision(
                false,
                TimeSpan.Zero,
                ReplicaState.Failed,
                $"{loop}: {exit}, {_restarts.Count} restarts in {window}{StderrSuffix(stderrTail)}");
        }

        var delay = BackoffFor(_restarts.Count);
        _restarts.Enqueue(now);
        return new RestartDecision(
            true,
            delay,
            ReplicaState.Starting,
            $"{exit}; restart {_restarts.Count} of {maxAttempts} in {window} after {Durations.Format(delay)}");
    }

    private TimeSpan BackoffFor(int restartsInWindow)
    {
        var baseTicks = Math.Max(0, _policy.Backoff.Ticks);
        var capTicks = Math.Max(0, _policy.MaxBackoff.Ticks);
        if (baseTicks == 0 || capTicks == 0)
        {
            return TimeSpan.Zero;
        }

        var ticks = (double)baseTicks * Math.Pow(2, Math.Min(restartsInWindow, 62));
        ticks = Math.Min(ticks, capTicks);
        var jitter = Math.Clamp(double.IsNaN(_policy.Jitter) ? 0 : _policy.Jitter, 0, 1);
        if (jitter > 0)
        {
            ticks *= 1 + (jitter * ((2 * _random.NextDouble()) - 1));
        }
        return TimeSpan.FromTicks((long)Math.Round(ticks));
    }

    private void Prune(DateTimeOffset now)
    {
        var horizon = now - _policy.Window;
        while (_restarts.Count > 0 && _restarts.Peek() <= horizon)
        {
            _restarts.Dequeue();
        }
    }

    private static string DescribeExit(int exitCode) =>
        exitCode is > 128 and <= 128 + 64
            ? $"killed by signal {exitCode - 128}{SignalName(exitCode - 128)} (exit code {exitCode})"
            : $"exited with code {exitCode}";

    private static string SignalName(int signal) => signal switch
    {
        1 => " (SIGHUP)",
        2 => " (SIGINT)",
        3 => " (SIGQUIT)",
        6 => " (SIGABRT)",
        9 => " (SIGKILL)",
        11 => " (SIGSEGV)",
        13 => " (SIGPIPE)",
        15 => " (SIGTERM)",
        _ => "",
    };

    private static string ModeName(RestartMode mode) => mode switch
    {
        RestartMode.Always => "always",
        RestartMode.OnFailure => "on-failure",
        _ => "never",
    };

    private static string StderrSuffix(string? stderrTail)
    {
        var tail = stderrTail?.Trim();
        if (string.IsNullOrEmpty(tail))
        {
            return "";
        }
        if (tail.Length > MaxStderrTail)
        {
            tail = "…" + tail[^MaxStderrTail..];
        }
        return "; last stderr: " + tail;
    }
}
