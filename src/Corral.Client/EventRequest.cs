namespace Corral.Client;

/// <summary>The query of <c>GET /v1/events</c> (docs/api.md, Events); every part is optional and they combine.</summary>
public sealed record EventRequest
{
    /// <value>Only events after this index (a store revision). Default 0: all.</value>
    public long Index { get; init; }

    /// <value>Most events in one answer (1 to 10,000); null for the server's default of 1,000. Default null.</value>
    public int? Limit { get; init; }

    /// <value>Only events at or after this: a duration back from now (<c>10m</c>) or an RFC 3339 time. Default null.</value>
    public string? Since { get; init; }

    /// <value>Only the last this many matching events (1 to 10,000). Default null.</value>
    public int? Tail { get; init; }

    /// <value>Event kinds, comma-separated; a kind's first part (<c>replica</c>) matches all its kinds. Default null.</value>
    public string? Type { get; init; }

    /// <value>Only events about this service and its replicas. Default null.</value>
    public string? Service { get; init; }

    /// <value>Only events about this node and the replicas on it. Default null.</value>
    public string? Node { get; init; }
}
