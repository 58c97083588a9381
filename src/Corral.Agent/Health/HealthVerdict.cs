namespace Corral.Agent.Health;

/// <summary>A health monitor's verdict.</summary>
/// <param name="Healthy">True healthy, false unhealthy, null no verdict yet.</param>
/// <param name="Since">When the verdict was reached (the time of the probe that decided it).</param>
/// <param name="Reason">Why: the detail of the deciding probe, with the failure count for an unhealthy verdict.</param>
public sealed record HealthVerdict(bool? Healthy, DateTimeOffset Since, string Reason);
