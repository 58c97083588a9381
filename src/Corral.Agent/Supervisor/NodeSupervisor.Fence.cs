using Corral.Core.Tasks;

namespace Corral.Agent.Supervisor;

public sealed partial class NodeSupervisor
{
    private readonly Dictionary<string, FenceLease> _fences = new(StringComparer.Ordinal);

    /// <summary>
    /// Sets task <paramref name="id"/>'s fence: unless renewed (called again) within <paramref name="within"/>, the
    /// task is stopped with its stop signal and stop timeout, and no start of that id is accepted until the fence is
    /// renewed or cleared. Null clears the fence. The agent renews the fence of each singleton replica whenever a
    /// server acknowledges a heartbeat, so a singleton stops on time even when the agent itself is frozen or dead.
    /// Every decision (armed, renewed, cleared, fired, stop sent, process gone) is logged; see <see cref="FenceJournal"/>.
    /// </summary>
    public void Fence(string id, TimeSpan? within)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        FenceLease? expired = null;
        lock (_lock)
        {
            var hadLive = false;
            if (_fences.Remove(id, out var previous))
            {
                previous.Timer?.Dispose();
                hadLive = !previous.Expired;
            }
            if (within is not { } delay)
            {
                if (previous is not null)
                {
                    _fenceJournal.Cleared(id);
                }
                return;
            }
            var lease = new FenceLease { Deadline = _time.GetUtcNow() + (delay > TimeSpan.Zero ? delay : TimeSpan.Zero) };
            if (delay <= TimeSpan.Zero)
            {
                lease.Expired = true;
                // A fence that had fired already stopped the task, and no start was accepted since: nothing new.
                if (previous is not { Expired: true })
                {
                    expired = lease;
                    _fenceJournal.Fired(id, lease.Deadline);
                }
            }
            else
            {
                if (hadLive)
                {
                    _fenceJournal.Renewed(id, lease.Deadline);
                }
                else
                {
                    _fenceJournal.Armed(id, lease.Deadline, delay);
                }
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
                _fenceJournal.Cleared(id);
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
            _fenceJournal.Fired(id, lease.Deadline);
        }
        _ = StopFencedAsync(id);
    }

    private async Task StopFencedAsync(string id)
    {
        try
        {
            var entry = Find(id);
            var info = entry is null ? null : Inspect(id);
            if (entry is null || info is not { State: SupervisedTaskState.Running })
            {
                SupervisorLog.FenceFiredIdle(_logger, id, info?.State);
                return;
            }
            Signals.TryParse(info.Spec.StopSignal, out var signal);
            await entry.Operation.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            try
            {
                await StopRunAsync(entry, signal == 0 ? Signals.SigTerm : signal, TimeSpan.FromMilliseconds(Math.Max(0, info.Spec.StopTimeoutMs)), CancellationToken.None, fenced: true).ConfigureAwait(false);
            }
            finally
            {
                entry.Operation.Release();
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

        /// <summary>When the fence fires unless renewed before.</summary>
        public DateTimeOffset Deadline { get; init; }

        public bool Expired { get; set; }
    }
}
