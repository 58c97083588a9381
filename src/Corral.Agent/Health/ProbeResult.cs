namespace Corral.Agent.Health;

/// <summary>The outcome of one probe.</summary>
/// <param name="Healthy">True when the probe passed.</param>
/// <param name="Detail">One line saying what was seen, e.g. <c>HTTP 503 from GET /health</c>.</param>
public sealed record ProbeResult(bool Healthy, string Detail);
