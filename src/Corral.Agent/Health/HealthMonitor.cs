using Corral.Core;
using Corral.Core.Tasks;

namespace Corral.Agent.Health;

/// <summary>
/// Probes one task on a schedule and keeps a healthy / unhealthy verdict.
/// </summary>
/// <remarks>
/// <para>
/// The first probe runs one <see cref="HealthCheckSpec.Interval"/> after <see cref="Start"/>, then one every interval,
/// on a schedule anchored to the start (a probe that overruns its slot is followed at once by the next, never by a
/// burst). Each probe is bounded by <see cref="HealthCheckSpec.Timeout"/>; a probe that times out is a failure and
/// is cancelled, which kills what it started.
/// </para>
/// <para>
/// One success makes the verdict healthy. <see cref="HealthCheckSpec.Retries"/> consecutive counted failures
/// (at least one) make it unhealthy. Failures of probes run before <c>taskStartedAt + StartPeriod</c> are not counted.
/// Until the first verdict <see cref="Current"/> has <c>Healthy == null</c>.
/// </para>
/// <para>All waiting goes through the injected <see cref="TimeProvider"/>.</para>
/// </remarks>
public sealed class HealthMonitor : IAsyncDisposable
{
    private readonly HealthCheckSpec _spec;
    private readonly IHealthProbe _probe;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private volatile HealthVerdict _current;
    private volatile ProbeResult? _lastResult;
    private DateTimeOffset _countFailuresFrom;
    private int _consecutiveFailures;
    private int _probeCount;
    private Task? _loop;

    public HealthMonitor(HealthCheckSpec spec, IHealthProbe probe, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(probe);
        ArgumentNullException.ThrowIfNull(time);
        if (spec.Interval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(spec), $"health check interval must be positive, got {Durations.Format(spec.Interval)}");
        }
        if (spec.Timeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(spec), $"health check timeout must be positive, got {Durations.Format(spec.Timeout)}");
        }
        _spec = spec;
        _probe = probe;
        _time = time;
        _current = new HealthVerdict(null, time.GetUtcNow(), "not started");
    }

    /// <summary>The verdict now; replaced as a whole on each transition.</summary>
    public HealthVerdict Current => _current;

    /// <summary>Probes completed so far (passed, failed or timed out).</summary>
    public int ProbeCount => Volatile.Read(ref _probeCount);

    /// <summary>Counted failures since the last success.</summary>
    public int ConsecutiveFailures
    {
        get
        {
            lock (_lock)
            {
                return _consecutiveFailures;
            }
        }
    }

    /// <summary>The result of the latest probe; null before the first.</summary>
    public ProbeResult? LastResult => _lastResult;

    /// <summary>
    /// Raised on every transition of <see cref="HealthVerdict.Healthy"/>, with the new verdict, on the probe loop's
    /// thread. A handler that throws does not stop the loop.
    /// </summary>
    public event Action<HealthVerdict>? Changed;

    /// <summary>Starts the probe loop. <paramref name="taskStartedAt"/> anchors the start period; it may lie in the past (re-attach).</summary>
    /// <exception cref="InvalidOperationException">Already started.</exception>
    public void Start(DateTimeOffset taskStartedAt)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_stop.IsCancellationRequested, this);
            if (_loop is not null)
            {
                throw new InvalidOperationException("the health monitor is already started");
            }
            _countFailuresFrom = taskStartedAt + _spec.StartPeriod;
            _current = new HealthVerdict(null, taskStartedAt, "no verdict yet: waiting for the first probe");
            var first = _time.GetUtcNow() + _spec.Interval;
            _loop = Task.Run(() => RunAsync(first, _stop.Token));
        }
    }

    /// <summary>Stops the loop and waits for it, cancelling a probe in flight and waiting (up to 5 s) for it to wind down.</summary>
    public async ValueTask DisposeAsync()
    {
        Task? loop;
        lock (_lock)
        {
            if (_stop.IsCancellationRequested)
            {
                return;
            }
            _stop.Cancel();
            loop = _loop;
        }
        if (loop is not null)
        {
            try
            {
                await loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
        _stop.Dispose();
    }

    private async Task RunAsync(DateTimeOffset next, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var wait = next - _time.GetUtcNow();
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
            }
            var at = _time.GetUtcNow();
            var result = await ProbeOnceAsync(cancellationToken).ConfigureAwait(false);
            Record(result, at);
            var now = _time.GetUtcNow();
            next += _spec.Interval;
            if (next < now)
            {
                next = now;
            }
        }
    }

    private async Task<ProbeResult> ProbeOnceAsync(CancellationToken cancellationToken)
    {
        using var probeCancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task<ProbeResult> probe;
        try
        {
            probe = _probe.ProbeAsync(probeCancellation.Token);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return new ProbeResult(false, $"probe failed: {e.Message}");
        }

        try
        {
            return await probe.WaitAsync(_spec.Timeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            await probeCancellation.CancelAsync().ConfigureAwait(false);
            _ = probe.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            return new ProbeResult(false, $"probe timed out after {Durations.Format(_spec.Timeout)}");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping: let the probe release what it started (an exec probe kills its process group) before returning.
            try
            {
                await probe.WaitAsync(TimeSpan.FromSeconds(5), _time, CancellationToken.None).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // The probe's outcome no longer matters, only that it has wound down.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
            throw;
        }
        catch (Exception e)
        {
            return new ProbeResult(false, $"probe failed: {e.Message}");
        }
    }

    private void Record(ProbeResult result, DateTimeOffset at)
    {
        HealthVerdict? changed = null;
        lock (_lock)
        {
            _lastResult = result;
            if (result.Healthy)
            {
                _consecutiveFailures = 0;
                if (_current.Healthy != true)
                {
                    changed = new HealthVerdict(true, at, result.Detail);
                }
            }
            else if (at >= _countFailuresFrom)
            {
                _consecutiveFailures++;
                var threshold = Math.Max(1, _spec.Retries);
                if (_consecutiveFailures >= threshold && _current.Healthy != false)
                {
                    var failures = _consecutiveFailures == 1 ? "1 failure" : $"{_consecutiveFailures} consecutive failures";
                    changed = new HealthVerdict(false, at, $"{failures}; last: {result.Detail}");
                }
            }
            if (changed is not null)
            {
                _current = changed;
            }
            Interlocked.Increment(ref _probeCount);
        }

        if (changed is not null)
        {
            try
            {
                Changed?.Invoke(changed);
            }
#pragma warning disable CA1031 // A subscriber's failure must not stop health checking.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }
    }
}
