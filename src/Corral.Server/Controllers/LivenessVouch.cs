using Corral.Core.Cluster;
using Corral.Server.State;

namespace Corral.Server.Controllers;

/// <summary>What <see cref="LivenessRelay.VouchAsync"/> established.</summary>
/// <param name="KeyRevision">A revision at which the node's liveness key is certainly in the store.</param>
/// <param name="Node">The node's record read in the transaction that put the key, or null when the key was already there (or the node is not registered).</param>
public sealed record LivenessVouch(long KeyRevision, Versioned<Node>? Node);
