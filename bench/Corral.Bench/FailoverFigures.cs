namespace Corral.Bench;

/// <summary>One system's failover figures, in seconds.</summary>
internal sealed record FailoverFigures(string System, double KillMedian, double KillMax, double KillMin, double PartitionMedian, int DoubleHolderIntervals);
