using Corral.Core.Cluster;
using Corral.Core.Services;

namespace Corral.Server.State;

/// <summary>
/// Desired and actual state read at one store revision: an immutable view. Keys map to the mod revision each value
/// was read at, so a commit can compare on exactly what it decided from.
/// </summary>
public sealed record ClusterSnapshot(
    long Revision,
    IReadOnlyDictionary<string, Versioned<ServiceSpec>> Services,
    IReadOnlyDictionary<string, Versioned<Replica>> Replicas,
    IReadOnlyDictionary<string, Versioned<Node>> Nodes);

/// <summary>A value and the mod revision of its key.</summary>
public sealed record Versioned<T>(T Value, long ModRevision);
