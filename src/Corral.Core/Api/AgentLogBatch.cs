namespace Corral.Core.Api;

/// <summary>The body of <c>POST /v1/agent/logs</c>: chunks of one node's replicas' logs, stored all or nothing.</summary>
/// <param name="Node">The sending node (must be the node of the client certificate).</param>
/// <param name="Chunks">At most <see cref="MaxChunks"/> chunks, each at most <see cref="MaxChunkBytes"/> of text.</param>
public sealed record AgentLogBatch(string Node, IReadOnlyList<AgentLogChunk> Chunks)
{
    /// <summary>Most chunks in one batch (each is one store write of one transaction).</summary>
    public const int MaxChunks = 32;

    /// <summary>Most bytes of line text in one chunk (well under the store's 1 MiB value limit).</summary>
    public const int MaxChunkBytes = 256 * 1024;
}
