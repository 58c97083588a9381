namespace Corral.Agent.Drivers;

/// <summary>How a task ended.</summary>
/// <param name="ExitCode">Exit status; 128 + signal for a death by signal.</param>
/// <param name="Signal">The signal that ended it, if any.</param>
/// <param name="ExitedAt">When the exit was seen.</param>
/// <param name="LogOffset">The log offset after the task's last line (its output is complete up to here).</param>
public sealed record TaskExit(int ExitCode, int? Signal, DateTimeOffset ExitedAt, long LogOffset)
{
    /// <summary>True when the task did not end by itself: the process that owned it died and took it along.</summary>
    public bool Lost { get; init; }

    /// <summary>Why, for a lost task.</summary>
    public string? Reason { get; init; }

    /// <summary>The log offset at which the run's output starts (with <see cref="LogOffset"/>, the run's whole output).</summary>
    public long RunLogOffset { get; init; }
}
