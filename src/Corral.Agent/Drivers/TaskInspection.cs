namespace Corral.Agent.Drivers;

/// <summary>A driver's view of one task.</summary>
/// <param name="TaskId">The task.</param>
/// <param name="Running">True while its process runs.</param>
/// <param name="Pid">Leader PID (0 when it never ran).</param>
/// <param name="StartedAt">Start of the current (or last) run.</param>
/// <param name="Exit">How the last run ended, when it has.</param>
/// <param name="LimitsNote"><c>limits not enforced: REASON</c> when limits could not be applied.</param>
/// <param name="RunLogOffset">Log offset at which the current run's output starts.</param>
/// <param name="LogOffset">Log offset after the last byte written so far.</param>
public sealed record TaskInspection(string TaskId, bool Running, int Pid, DateTimeOffset? StartedAt, TaskExit? Exit, string? LimitsNote, long RunLogOffset, long LogOffset);
