namespace Corral.Agent.Logs;

/// <summary>Whole lines read from a task's log.</summary>
/// <param name="Lines">The lines, in order; never a partial line.</param>
/// <param name="NextOffset">Where the next read continues.</param>
/// <param name="SkippedFrom">
/// When the requested offset had already been rotated away: the requested offset (the lines between it and
/// the first returned line are gone). Null when nothing was lost.
/// </param>
public sealed record LogReadResult(IReadOnlyList<LogLine> Lines, long NextOffset, long? SkippedFrom);
