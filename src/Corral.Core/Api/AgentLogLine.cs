namespace Corral.Core.Api;

/// <summary>One line of a replica's log as an agent ships it.</summary>
/// <param name="Offset">Log offset of the line's first byte (bytes written by the replica's tasks before it; stable across rotation and restarts).</param>
/// <param name="Time">When the supervisor read the line from the task.</param>
/// <param name="Stream"><c>stdout</c> or <c>stderr</c>.</param>
/// <param name="Text">The line without its newline.</param>
public sealed record AgentLogLine(long Offset, DateTimeOffset? Time, string Stream, string Text);
