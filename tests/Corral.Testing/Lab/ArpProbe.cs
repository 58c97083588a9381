using System.Diagnostics;
using System.Net;
using Corral.Server.Vip;

namespace Corral.Testing.Lab;

/// <summary>
/// From one lab host, sends an ARP request for an address every <see cref="Interval"/> (20 ms) and records which
/// MACs answered in each interval: two MACs in one interval means two hosts held the address at once.
/// </summary>
public sealed class ArpProbe : IDisposable
{
    /// <summary>One probe interval.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(20);

    private readonly Lock _lock = new();
    private readonly List<ArpProbeInterval> _intervals = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;
    private Exception? _error;

    private ArpProbe(LabHost from, IPAddress target)
    {
        var ready = new ManualResetEventSlim();
        _thread = Netns.Start(from.Namespace, () =>
        {
            try
            {
                using var socket = ArpSocket.Open("eth0");
                ready.Set();
                Loop(socket, from.Address, target);
            }
            catch (Exception e)
            {
                _error = e;
                ready.Set();
            }
        });
        ready.Wait(TimeSpan.FromSeconds(10));
        if (_error is not null)
        {
            throw new InvalidOperationException("the ARP probe could not start: " + _error.Message, _error);
        }
    }

    /// <summary>Starts probing <paramref name="target"/> from <paramref name="from"/>.</summary>
    public static ArpProbe Start(LabHost from, IPAddress target) => new(from, target);

    /// <summary>Every interval so far, oldest first.</summary>
    public IReadOnlyList<ArpProbeInterval> Intervals
    {
        get
        {
            ThrowIfFailed();
            lock (_lock)
            {
                return [.. _intervals];
            }
        }
    }

    /// <summary>How many intervals so far.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _intervals.Count;
            }
        }
    }

    /// <summary>Intervals from index <paramref name="from"/> on.</summary>
    public IReadOnlyList<ArpProbeInterval> Since(int from)
    {
        ThrowIfFailed();
        lock (_lock)
        {
            return [.. _intervals.Skip(from)];
        }
    }

    /// <summary>The MACs that answered in the last completed interval.</summary>
    public IReadOnlyList<string> LastAnswer()
    {
        lock (_lock)
        {
            return _intervals.Count == 0 ? [] : _intervals[^1].Macs;
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _thread.Join(TimeSpan.FromSeconds(5));
        _stop.Dispose();
    }

    private void ThrowIfFailed()
    {
        if (_error is not null)
        {
            throw new InvalidOperationException("the ARP probe failed: " + _error.Message, _error);
        }
    }

    private void Loop(ArpSocket socket, IPAddress self, IPAddress target)
    {
        var clock = Stopwatch.StartNew();
        var index = 0;
        while (!_stop.IsCancellationRequested)
        {
            var start = clock.Elapsed;
            var end = Interval * (index + 1);
            var startedAt = DateTimeOffset.UtcNow;
            socket.SendRequest(self, target);
            var macs = new List<string>();
            while (clock.Elapsed < end)
            {
                if (socket.ReceiveReply(end - clock.Elapsed) is { } reply && reply.Address.Equals(target) && !macs.Contains(reply.Mac))
                {
                    macs.Add(reply.Mac);
                }
            }
            lock (_lock)
            {
                _intervals.Add(new ArpProbeInterval(index, startedAt, macs));
            }
            index++;
            // A slow interval (a loaded machine) is not made up for: the next one starts now.
            if (clock.Elapsed > end + Interval)
            {
                index = (int)(clock.Elapsed / Interval);
            }
        }
    }
}
