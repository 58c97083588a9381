namespace Corral.Core.Api;

/// <summary>One line of <c>GET /v1/logs</c> (NDJSON, one record per line).</summary>
/// <param name="Service">The service.</param>
/// <param name="ReplicaId">The replica whose task wrote the line.</param>
/// <param name="Node">The node the replica ran on.</param>
/// <param name="Stream"><c>stdout</c> or <c>stderr</c>.</param>
/// <param name="Offset">The line's offset in the replica's log: unique per replica.</param>
/// <param name="Time">When the line was written (read from the task by its node's supervisor).</param>
/// <param name="Text">The line without its newline.</param>
public sealed record LogRecord(string Service, string ReplicaId, string Node, string Stream, long Offset, DateTimeOffset Time, string Text);
