using Corral.Core.Api;

namespace Corral.Server.State;

/// <summary>Which events <see cref="ClusterState.ReadEventsAsync"/> returns.</summary>
/// <param name="AfterRevision">Only events with a revision above this (a blocking query's index); 0 for all.</param>
/// <param name="Limit">At most this many events, oldest first, except that a revision is never split across pages.</param>
public sealed record EventQuery(long AfterRevision, int Limit)
{
    /// <value>Only events at or after this time (by the time in their key); null for no bound. Default null.</value>
    public DateTimeOffset? Since { get; init; }

    /// <value>Only the last this many matching events (by key, i.e. by time); null for no bound. Default null.</value>
    public int? Tail { get; init; }

    /// <value>Kinds, service, node. Default none.</value>
    public EventFilter Filter { get; init; } = EventFilter.None;
}
