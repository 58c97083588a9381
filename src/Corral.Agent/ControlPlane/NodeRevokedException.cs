namespace Corral.Agent.ControlPlane;

/// <summary>
/// A server refused this node's certificate as revoked (<c>corral node rm</c>): the node is no longer part of the
/// cluster, and no retry will change that. It must join again with a new token.
/// </summary>
public sealed class NodeRevokedException(string message) : Exception(message);
