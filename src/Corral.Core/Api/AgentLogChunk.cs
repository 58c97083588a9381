namespace Corral.Core.Api;

/// <summary>
/// Contiguous lines of one replica's log, from offset <see cref="From"/> up to (not including) <see cref="Next"/>:
/// the unit an agent ships and a server stores (under <c>/corral/logs/SERVICE/REPLICA/FROM</c>). Sending the same
/// chunk again overwrites it with itself, so a resend after a lost acknowledgement duplicates nothing.
/// </summary>
/// <param name="ReplicaId">The replica whose task wrote the lines.</param>
/// <param name="Service">The replica's service.</param>
/// <param name="From">Offset the chunk starts at: the agent's last acknowledged offset.</param>
/// <param name="Next">Offset just past the chunk's last line: the offset acknowledged once it is stored.</param>
/// <param name="Lines">The lines, in offset order, each at or above <see cref="From"/> and below <see cref="Next"/>.</param>
/// <param name="Node">The node that shipped it (set by the server from the client certificate; ignored when sent).</param>
public sealed record AgentLogChunk(string ReplicaId, string Service, long From, long Next, IReadOnlyList<AgentLogLine> Lines, string? Node = null);
