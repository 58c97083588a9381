namespace Corral.Core.Services;

/// <summary>Where a service's replicas may run.</summary>
public sealed record PlacementSpec
{
    /// <summary>Pins every replica to this node (a service pinned to one launcher); null for any node.</summary>
    public string? Node { get; init; }

    /// <summary>Labels a node must carry, each with exactly this value.</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new SortedDictionary<string, string>(StringComparer.Ordinal);

    /// <summary>At most this many replicas of the service on one node; null for no limit.</summary>
    public int? MaxPerNode { get; init; }

    public static PlacementSpec Anywhere { get; } = new();
}
