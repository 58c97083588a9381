using System.Diagnostics;
using System.Net;
using Corral.Server.Vip;

namespace Corral.Testing.Lab;

/// <summary>
/// Samples, every 20 ms and inside each host's namespace, whether the host's eth0 has an address (from the kernel,
/// not from what the software says), so intervals in which two hosts held a VIP can be counted — including while a
/// host is cut off, when no probe on the other side can see it.
/// </summary>
public sealed class VipHolderPoller : IDisposable
{
    /// <summary>One sampling interval.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(20);

    private readonly Lock _lock = new();
    private readonly Dictionary<LabHost, SortedDictionary<long, bool>> _samples = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Thread> _threads = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly DateTimeOffset _started = DateTimeOffset.UtcNow;

    private VipHolderPoller(IReadOnlyList<LabHost> hosts, IPAddress address)
    {
        foreach (var host in hosts)
        {
            var samples = new SortedDictionary<long, bool>();
            _samples[host] = samples;
            _threads.Add(Netns.Start(host.Namespace, () => Loop(samples, address)));
        }
    }

    /// <summary>Starts sampling <paramref name="hosts"/> for <paramref name="address"/> on eth0.</summary>
    public static VipHolderPoller Start(IReadOnlyList<LabHost> hosts, IPAddress address) => new(hosts, address);

    /// <summary>
    /// The 20 ms slots between <paramref name="from"/> and <paramref name="to"/> in which more than one of the hosts
    /// (other than <paramref name="except"/>) held the address, each host's state being its latest sample in the slot.
    /// </summary>
    public int DoubleHolderIntervals(DateTimeOffset from, DateTimeOffset to, ISet<LabHost>? except = null)
    {
        var first = Slot(from);
        var last = Slot(to);
        var count = 0;
        lock (_lock)
        {
            var holders = new int[last - first + 1];
            foreach (var (host, samples) in _samples)
            {
                if (except is not null && except.Contains(host))
                {
                    continue;
                }
                var held = false;
                var slot = first;
                foreach (var (s, h) in samples)
                {
                    if (s > last)
                    {
                        break;
                    }
                    for (; slot < s && slot <= last; slot++)
                    {
                        holders[slot - first] += held ? 1 : 0;
                    }
                    held = h;
                }
                for (; slot <= last; slot++)
                {
                    holders[slot - first] += held ? 1 : 0;
                }
            }
            count = holders.Count(h => h > 1);
        }
        return count;
    }

    /// <summary>
    /// The start of the first 20 ms slot at or after <paramref name="from"/> in which one of <paramref name="hosts"/>
    /// was sampled with the address (<paramref name="held"/> true) or without it (false); null when none was yet.
    /// </summary>
    public DateTimeOffset? FirstSample(IEnumerable<LabHost> hosts, DateTimeOffset from, bool held)
    {
        var first = Slot(from);
        long? found = null;
        lock (_lock)
        {
            foreach (var host in hosts)
            {
                foreach (var (slot, h) in _samples[host])
                {
                    if (slot >= first && h == held)
                    {
                        found = found is { } f ? Math.Min(f, slot) : slot;
                        break;
                    }
                }
            }
        }
        return found is { } s ? _started + Interval * s : null;
    }

    public void Dispose()
    {
        _stop.Cancel();
        foreach (var thread in _threads)
        {
            thread.Join(TimeSpan.FromSeconds(5));
        }
        _stop.Dispose();
    }

    private long Slot(DateTimeOffset at) => (long)((at - _started) / Interval);

    private void Loop(SortedDictionary<long, bool> samples, IPAddress address)
    {
        while (!_stop.IsCancellationRequested)
        {
            var held = VipAddress.IsAssigned("eth0", address);
            var slot = (long)(_clock.Elapsed / Interval);
            lock (_lock)
            {
                samples[slot] = held;
                // Keep memory bounded over long runs: drop samples older than 10 minutes.
                if (samples.Count > 30_000)
                {
                    samples.Remove(samples.Keys.First());
                }
            }
            var wait = Interval * (slot + 1) - _clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                Thread.Sleep(wait);
            }
        }
    }
}
