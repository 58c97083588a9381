namespace Corral.Agent.Logs;

/// <summary>How an agent ships its replicas' logs to the servers.</summary>
public sealed class LogShipperOptions
{
    /// <value>Pause between passes when everything was shipped. Default 500 ms.</value>
    public TimeSpan Interval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <value>Pause before trying again after a failed send (the connection has moved on to the next server). Default 1 s.</value>
    public TimeSpan RetryInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <value>Raw log bytes read per replica per batch. Default 128 KiB.</value>
    public int ChunkReadBytes { get; init; } = 128 * 1024;

    /// <value>Longest line shipped, in characters; longer lines are cut and marked. Default 16 KiB.</value>
    public int MaxLineChars { get; init; } = 16 * 1024;

    /// <value>Most chunks (replicas) in one batch. Default <see cref="Corral.Core.Api.AgentLogBatch.MaxChunks"/>.</value>
    public int MaxChunks { get; init; } = Corral.Core.Api.AgentLogBatch.MaxChunks;

    /// <summary>Every problem with these options, each naming its field; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Interval <= TimeSpan.Zero)
        {
            errors.Add($"Interval: {Interval} must be positive");
        }
        if (RetryInterval <= TimeSpan.Zero)
        {
            errors.Add($"RetryInterval: {RetryInterval} must be positive");
        }
        if (ChunkReadBytes < 1024 || ChunkReadBytes > Corral.Core.Api.AgentLogBatch.MaxChunkBytes / 2)
        {
            errors.Add($"ChunkReadBytes: {ChunkReadBytes} must be from 1024 to {Corral.Core.Api.AgentLogBatch.MaxChunkBytes / 2}");
        }
        if (MaxLineChars < 80 || MaxLineChars > Corral.Core.Api.AgentLogBatch.MaxChunkBytes / 8)
        {
            errors.Add($"MaxLineChars: {MaxLineChars} must be from 80 to {Corral.Core.Api.AgentLogBatch.MaxChunkBytes / 8}");
        }
        if (MaxChunks < 1 || MaxChunks > Corral.Core.Api.AgentLogBatch.MaxChunks)
        {
            errors.Add($"MaxChunks: {MaxChunks} must be from 1 to {Corral.Core.Api.AgentLogBatch.MaxChunks}");
        }
        return errors;
    }
}
