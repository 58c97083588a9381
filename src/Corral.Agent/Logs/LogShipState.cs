namespace Corral.Agent.Logs;

/// <summary>
/// What the agent keeps per replica about shipping its log (<c>DATA/shipping/ID.json</c>, written atomically): the
/// replica's service and the offset up to which a server has acknowledged its lines.
/// </summary>
public sealed record LogShipState
{
    public required string Service { get; init; }

    /// <summary>Every line below this offset is stored on the servers; shipping resumes here.</summary>
    public long Acknowledged { get; init; }
}
