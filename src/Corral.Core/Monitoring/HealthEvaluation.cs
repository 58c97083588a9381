using Corral.Core.Api;

namespace Corral.Core.Monitoring;

/// <summary>The health score, its inputs and the alarm conditions that hold, for one <see cref="MonitorInput"/>.</summary>
public sealed record HealthEvaluation(int Score, HealthInputs Inputs, IReadOnlyList<AlarmCondition> Conditions);
