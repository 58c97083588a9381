using System.Diagnostics;

namespace Corral.Testing.Lab;

/// <summary>The fixed-rate loop of the lab's probes: one attempt per interval, never catching up on missed ones.</summary>
internal static class ProbeLoop
{
    /// <summary>Runs <paramref name="attempt"/> every <paramref name="interval"/> on the calling thread until <paramref name="stop"/> is cancelled.</summary>
    public static void Run(TimeSpan interval, CancellationToken stop, Action attempt)
    {
        var clock = Stopwatch.StartNew();
        var next = TimeSpan.Zero;
        while (!stop.IsCancellationRequested)
        {
            attempt();
            next += interval;
            var wait = next - clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                Thread.Sleep(wait);
            }
            else
            {
                next = clock.Elapsed;
            }
        }
    }
}
