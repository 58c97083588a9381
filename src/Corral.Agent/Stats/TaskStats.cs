namespace Corral.Agent.Stats;

/// <summary>Resource use of one task: every process in its session.</summary>
/// <param name="CpuPercent">CPU used since the previous sample of the same task, as a percentage of one core (200 = two cores busy); 0 on the first sample.</param>
/// <param name="RssBytes">Resident memory summed over the processes (shared pages are counted once per process).</param>
/// <param name="ProcessCount">Live processes in the session.</param>
/// <param name="At">When the sample was taken.</param>
public sealed record TaskStats(double CpuPercent, long RssBytes, int ProcessCount, DateTimeOffset At);
