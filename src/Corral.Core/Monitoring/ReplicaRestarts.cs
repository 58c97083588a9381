namespace Corral.Core.Monitoring;

/// <summary>How often an assigned replica was restarted on its node within the crash-loop window.</summary>
public sealed record ReplicaRestarts(string ReplicaId, string Service, string Node, int RestartsInWindow);
