namespace Corral.Agent.Supervisor;

public sealed partial class NodeSupervisor
{
    private readonly Dictionary<string, FenceLease> _fences = new(StringComparer.Ordinal);

    /// <summary>
    /// Sets task <paramref name="id"/>'s fence: unless renewed (called again) within <paramref name="within"/>, the
    /// task is stopped with its stop signal and stop timeout, and no start of that id is accepted until the fence is
    /// renewed or cleared. Null clears the fence. The agent renews the fence of each singleton replica whenever a
    /// server acknowledges a heartbeat, so a singleton stops on time even when the agent itself is frozen or dead.
    /// </summary>
    public void Fence(string id, TimeSpan? within)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        FenceLease? expired = null;
        lock (_lock)
        {
            if (_fences.Remove(id, out var previous))
            {
                previous.Timer?.Dispose();
            }
            if (within is not { } delay)
            {
                return;
            }
            var lease = new FenceLease();
            if (delay <= TimeSpan.Zero)
            {
                lease.Expired = true;
                expired = lease;
            }
            else
            {
                lease.Timer = _time.CreateTimer(_ => Expire(id, lease), null, delay, Timeout.InfiniteTimeSpan);
            }
            _fences[id] = lease;
        }
        if (expired is not null)
        {
            _ = StopFencedAsync(id);
        }
    }

    /// <summary>Why task <paramref name="id"/> may not start now (its fence expired), or null.</summary>
    private string? FencedReason(string id)
    {
        lock (_lock)
        {
            return _fences.TryGetValue(id, out var lease) && lease.Expired
                ? $"task {id} is fenced: its agent did not renew the fence in time (no server acknowledged a heartbeat); it may start again once the fence is renewed"
                : null;
        }
    }

    private void ClearFence(string id)
    {
        lock (_lock)
        {
            if (_fences.Remove(id, out var lease))
            {
                lease.Timer?.Dispose();
            }
        }
    }

    private void Expire(string id, FenceLease lease)
    {
        lock (_lock)
        {
            if (!_fences.TryGetValue(id, out var current) || !ReferenceEquals(current, lease))
            {
                return;
            }
            lease.Expired = true;
        }
        _ = StopFencedAsync(id);
    }

    private async Task StopFencedAsync(string id)
    {
        try
        {
            if (Inspect(id) is { State: SupervisedTaskState.Running })
            {
                await StopAsync(id, null, null, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
            // The task went away meanwhile.
        }
    }

    private void DisposeFences()
    {
        lock (_lock)
        {
            foreach (var lease in _fences.Values)
            {
                lease.Timer?.Dispose();
            }
            _fences.Clear();
        }
    }

    private sealed class FenceLease
    {
        public ITimer? Timer { get; set; }

        public bool Expired { get; set; }
    }
}
