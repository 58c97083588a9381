namespace Corral.Core.Api;

/// <summary>
/// The cluster's health score, 0 (down) to 100 (all well), with what it was computed from; written by the leader's
/// monitor to <c>/corral/health</c> and shown in GET /v1/status.
/// </summary>
/// <param name="Score">0–100.</param>
/// <param name="Inputs">What the score was computed from.</param>
/// <param name="At">When the monitor computed it.</param>
public sealed record HealthReport(int Score, HealthInputs Inputs, DateTimeOffset At);
