namespace Corral.Agent.Logs;

/// <summary>One line of a task's log.</summary>
/// <param name="Offset">Log offset of the line's first byte.</param>
/// <param name="NextOffset">Log offset just past the line's newline: where reading resumes.</param>
/// <param name="Time">When the supervisor read the line from the task, when the line carries a parsable time.</param>
/// <param name="Stream"><c>stdout</c> or <c>stderr</c> (empty for a line that is not in the supervisor's format).</param>
/// <param name="Text">The task's text without the newline.</param>
public sealed record LogLine(long Offset, long NextOffset, DateTimeOffset? Time, string Stream, string Text);
