using Corral.Core;
using Corral.Core.Api;

namespace Corral.Agent.ControlPlane;

/// <summary>
/// The agent's half of "a singleton never runs twice": decides which singleton replicas to stop because no server has
/// acknowledged a heartbeat for their <c>fence_after</c>, and which assignment sets may start them again. Pure logic
/// over an injected clock; <see cref="ServerConnection"/> feeds it and acts on its answers.
/// </summary>
/// <remarks>
/// Contact is measured from the moment a heartbeat that a server then acknowledged was <em>sent</em>: the server saw
/// that heartbeat no earlier, so the agent's deadline (last send + <c>fence_after</c>) falls before the leader's
/// (last heartbeat seen + <c>heartbeat_grace</c> + <c>eviction_timeout</c>) whatever the network delays. Only
/// heartbeats count, not assignment polls: heartbeats are what keeps the node alive at the leader.
/// A fenced replica starts again only from an assignment set requested after a heartbeat sent after the fence was
/// acknowledged: a set that left the server before contact returned may predate the replica's replacement.
/// </remarks>
public sealed class SingletonFence
{
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, DateTimeOffset> _fenced = new(StringComparer.Ordinal);
    private Dictionary<string, TimeSpan> _singletons = new(StringComparer.Ordinal);
    private DateTimeOffset _lastContact;
    private DateTimeOffset? _fencedAt;
    private DateTimeOffset? _regainedAt;

    /// <param name="time">The agent's clock.</param>
    /// <param name="lastContact">
    /// When an earlier run of the agent last had a heartbeat acknowledged (its send time), if known: a restarted agent's
    /// fence goes on from there, not from its own start, so a restart never lengthens a singleton's deadline. Null (a
    /// node that never had contact) starts the clock now.
    /// </param>
    public SingletonFence(TimeProvider time, DateTimeOffset? lastContact = null)
    {
        _time = time ?? throw new ArgumentNullException(nameof(time));
        var now = time.GetUtcNow();
        _lastContact = lastContact is { } known && known < now ? known : now;
    }

    /// <summary>When the last acknowledged heartbeat was sent (or this fence was created, before any).</summary>
    public DateTimeOffset LastContact
    {
        get
        {
            lock (_lock)
            {
                return _lastContact;
            }
        }
    }

    /// <summary>True while replicas stopped by the fence wait for an assignment set that may start them again.</summary>
    public bool HasFenced
    {
        get
        {
            lock (_lock)
            {
                return _fencedAt is not null;
            }
        }
    }

    /// <summary>The singleton replicas of the last applied set, each with its <c>fence_after</c>.</summary>
    public IReadOnlyDictionary<string, TimeSpan> Singletons
    {
        get
        {
            lock (_lock)
            {
                return _singletons;
            }
        }
    }

    /// <summary>The replicas fenced since the last applied assignment set.</summary>
    public IReadOnlyCollection<string> Fenced
    {
        get
        {
            lock (_lock)
            {
                return [.. _fenced.Keys];
            }
        }
    }

    /// <summary>A server acknowledged a heartbeat sent at <paramref name="sentAt"/>.</summary>
    public void Reached(DateTimeOffset sentAt)
    {
        lock (_lock)
        {
            if (sentAt > _lastContact)
            {
                _lastContact = sentAt;
            }
            if (_fencedAt is { } fencedAt && _regainedAt is null && sentAt >= fencedAt)
            {
                _regainedAt = sentAt;
            }
        }
    }

    /// <summary>
    /// False for an assignment set requested at <paramref name="requestedAt"/> while fenced replicas wait and before
    /// contact was regained: applying it could start a singleton whose replacement already runs elsewhere.
    /// </summary>
    public bool MayApply(DateTimeOffset requestedAt)
    {
        lock (_lock)
        {
            return _fencedAt is null || (_regainedAt is { } regained && requestedAt >= regained);
        }
    }

    /// <summary>
    /// Records the set just applied, requested at <paramref name="requestedAt"/>: its singletons (with their
    /// <c>fence_after</c>) are the ones watched from now on, and replicas fenced before the request are settled
    /// (started again when the set holds them, forgotten otherwise). One fenced while the set was on its way stays
    /// fenced: the set did not see it, so the next one must.
    /// </summary>
    public void Applied(IEnumerable<Assignment> assignments, DateTimeOffset requestedAt)
    {
        ArgumentNullException.ThrowIfNull(assignments);
        var singletons = assignments.Where(a => a.Singleton && a.FenceAfter > TimeSpan.Zero)
            .ToDictionary(a => a.ReplicaId, a => a.FenceAfter, StringComparer.Ordinal);
        lock (_lock)
        {
            _singletons = singletons;
            foreach (var id in _fenced.Where(f => f.Value <= requestedAt).Select(f => f.Key).ToList())
            {
                _fenced.Remove(id);
            }
            if (_fenced.Count == 0)
            {
                _fencedAt = null;
                _regainedAt = null;
            }
        }
    }

    /// <summary>
    /// The singletons to stop now, each with the reason to report: those whose <c>fence_after</c> has passed since
    /// <see cref="LastContact"/>. Each is returned once until the next <see cref="Applied"/>.
    /// </summary>
    /// <param name="at">
    /// The moment to judge at; default now. Judged at the send time of a heartbeat just acknowledged (before it counts),
    /// it names the singletons whose deadline passed while the agent was out of touch (cut off, or frozen so that only
    /// its supervisor acted): contact regained too late must not revive them.
    /// </param>
    public IReadOnlyDictionary<string, string> Due(DateTimeOffset? at = null)
    {
        var now = at ?? _time.GetUtcNow();
        var due = new Dictionary<string, string>(StringComparer.Ordinal);
        lock (_lock)
        {
            var silence = now - _lastContact;
            foreach (var (id, fenceAfter) in _singletons)
            {
                if (silence >= fenceAfter && _fenced.TryAdd(id, now))
                {
                    due[id] = $"fenced: no server acknowledged a heartbeat for {Durations.Format(silence)} (fence_after {Durations.Format(fenceAfter)}); "
                        + "a singleton starts again only when a server assigns it again";
                }
            }
            if (due.Count > 0)
            {
                _fencedAt ??= now;
            }
        }
        return due;
    }
}
