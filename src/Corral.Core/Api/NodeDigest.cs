namespace Corral.Core.Api;

/// <summary>
/// What one server last heard from the nodes that heartbeat to it, shared with the other servers through the store
/// (<c>/corral/digests/SERVER</c>, gzipped JSON, attached to the server's liveness lease; see docs/ha.md). Servers
/// merge the digests by node: the entry with the latest heartbeat wins.
/// </summary>
/// <param name="Server">The server that publishes it.</param>
/// <param name="Nodes">One entry per node that heartbeat to that server recently; empty when none does.</param>
public sealed record NodeDigest(string Server, IReadOnlyList<NodeDigestEntry> Nodes);
