namespace Corral.Agent.Drivers;

/// <summary>The process driver's part of a handle: which run of the task, and the leader's identity in /proc.</summary>
public sealed record ProcessDriverState(long Generation, ulong StartTicks, string SupervisorInstance);
