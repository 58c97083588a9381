using System.Diagnostics;
using Corral.Core.Scheduling;

namespace Corral.Bench;

internal static partial class ScheduleBench
{
    private const int PureRounds = 3;

    /// <summary>
    /// <see cref="Scheduler.Place"/> of every replica on an empty cluster, no store: the median of
    /// <see cref="PureRounds"/> rounds after a warm-up, in placements per second. Throws if a replica is not placed.
    /// </summary>
    private static double MeasurePure(ScheduleWorkload workload)
    {
        Console.Error.WriteLine("schedule: measuring the pure scheduler ...");
        var requests = workload.Requests();
        Scheduler.Place(workload.Nodes, [], requests.Take(Math.Min(requests.Count, 5000)).ToList());
        var rates = new List<double>();
        for (var round = 0; round < PureRounds; round++)
        {
            var start = Stopwatch.GetTimestamp();
            var decisions = Scheduler.Place(workload.Nodes, [], requests);
            var elapsed = Stopwatch.GetElapsedTime(start);
            if (decisions.FirstOrDefault(d => d is PlacementDecision.Unplaced) is PlacementDecision.Unplaced u)
            {
                throw new InvalidOperationException($"the pure scheduler left {u.ReplicaId} unplaced: {u.Reason}");
            }
            rates.Add(requests.Count / elapsed.TotalSeconds);
        }
        rates.Sort();
        return rates[rates.Count / 2];
    }
}
