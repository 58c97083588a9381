namespace Corral.Core.Monitoring;

/// <summary>
/// Counts a replica's restarts within a sliding window from the restart counter its node reports (restarts since the
/// task's runner started, which only grows, or starts again at 0 when the agent restarts). No I/O; not thread-safe.
/// </summary>
public sealed class RestartWindow(TimeSpan window)
{
    private readonly Dictionary<string, Track> _replicas = new(StringComparer.Ordinal);

    /// <summary>The window restarts are counted in.</summary>
    public TimeSpan Window { get; } = window;

    /// <summary>Records the counter <paramref name="restarts"/> reported for <paramref name="replicaId"/>; returns the restarts within the window ending at <paramref name="now"/>.</summary>
    public int Observe(string replicaId, int restarts, DateTimeOffset now)
    {
        ArgumentException.ThrowIfNullOrEmpty(replicaId);
        if (!_replicas.TryGetValue(replicaId, out var track))
        {
            // The first sight sets the baseline: restarts before the monitor looked are not counted.
            _replicas[replicaId] = new Track(restarts);
            return 0;
        }
        if (restarts < track.Last)
        {
            track.Last = restarts;
        }
        for (var i = track.Last; i < restarts; i++)
        {
            track.Times.Enqueue(now);
        }
        track.Last = restarts;
        while (track.Times.Count > 0 && now - track.Times.Peek() >= Window)
        {
            track.Times.Dequeue();
        }
        return track.Times.Count;
    }

    /// <summary>Forgets every replica not in <paramref name="keep"/>.</summary>
    public void Retain(IReadOnlySet<string> keep)
    {
        foreach (var id in _replicas.Keys.Where(id => !keep.Contains(id)).ToList())
        {
            _replicas.Remove(id);
        }
    }

    /// <summary>Forgets everything (a new leadership term).</summary>
    public void Clear() => _replicas.Clear();

    private sealed class Track(int last)
    {
        public int Last { get; set; } = last;

        public Queue<DateTimeOffset> Times { get; } = new();
    }
}
