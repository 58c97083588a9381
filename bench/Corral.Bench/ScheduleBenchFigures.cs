namespace Corral.Bench;

/// <summary>
/// One backend's figures in the schedule benchmark. <see cref="PlacedSeconds"/> runs from the deploy until the last
/// replica was committed as assigned; <see cref="ConvergeSeconds"/> until the last one was acknowledged healthy. Null
/// when the run did not get that far.
/// </summary>
internal sealed record ScheduleBenchFigures(
    string Backend,
    string Detail,
    int Replicas,
    double? PlacedSeconds,
    double? ConvergeSeconds,
    int Passes = 0,
    int StalePasses = 0,
    int FailedPasses = 0,
    string? Problem = null)
{
    public double? PlacementsPerSecond => PlacedSeconds is > 0 ? Replicas / PlacedSeconds : null;
}
