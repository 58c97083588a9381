namespace Corral.Core.Services;

/// <summary>
/// The one timing rule that keeps a singleton from running twice, applied where a stack is accepted (and where a
/// service becomes a singleton by scaling), and documented in docs/ha.md ("Timing rules for singletons").
/// </summary>
/// <remarks>
/// All durations count from the same moment: when the last heartbeat that a server acknowledged as on record (the node
/// up in the store) was <em>sent</em> by the agent. The leader marks the node down backdated to its last heartbeat it
/// knows of, which is no earlier than that, and replaces the singleton once <c>eviction_timeout</c> has passed since
/// then. On the node, the agent stops the singleton when <c>fence_after</c> has passed (the supervisor
/// <see cref="SupervisorGrace"/> later, when the agent is frozen or dead), and the stop takes up to
/// <c>stop_timeout</c> before SIGKILL. So the old instance is gone by
/// <c>fence_after + SupervisorGrace + stop_timeout</c>, and the rule keeps <see cref="Margin"/> between that and
/// <c>eviction_timeout</c>. <c>heartbeat_grace</c> does not appear: it decides when a node is shown down, not when its
/// work moves.
/// </remarks>
public static class SingletonTiming
{
    /// <summary>How much later than the agent the node's supervisor stops a singleton whose fence was not renewed: 500 ms.</summary>
    public static readonly TimeSpan SupervisorGrace = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Room for what the durations leave out (the agent's 100 ms fence check, SIGKILL and reaping, a busy machine's
    /// scheduling, the replacement's placement racing the old instance's last moments): 1 s.
    /// </summary>
    public static readonly TimeSpan Margin = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Longest time an agent goes without an acknowledged heartbeat when one server vanishes silently and another
    /// answers: a heartbeat interval (1 s) plus the heartbeat deadline at the lost server (800 ms), rounded up: 2 s.
    /// </summary>
    public static readonly TimeSpan AgentFailover = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The least <c>fence_after</c>: the agents' server failover time plus 1 s, so losing one server never fences: 3 s.
    /// </summary>
    public static readonly TimeSpan MinFenceAfter = AgentFailover + TimeSpan.FromSeconds(1);

    /// <summary>How long after the last acknowledged heartbeat the old instance is certainly gone.</summary>
    public static TimeSpan OldInstanceGoneBy(TimeSpan fenceAfter, TimeSpan stopTimeout) => fenceAfter + SupervisorGrace + stopTimeout;

    /// <summary>
    /// The <c>fence_after</c> a singleton gets when the stack gives none: half of <c>eviction_timeout</c>, or less when
    /// the rule needs it (<c>eviction_timeout − stop_timeout − 1.5 s</c>), never below <see cref="MinFenceAfter"/>
    /// (a combination that leaves less is refused by <see cref="Check"/>).
    /// </summary>
    public static TimeSpan DefaultFenceAfter(TimeSpan evictionTimeout, TimeSpan stopTimeout)
    {
        var half = evictionTimeout / 2;
        var room = evictionTimeout - stopTimeout - SupervisorGrace - Margin;
        var chosen = room < half ? room : half;
        return chosen < MinFenceAfter ? MinFenceAfter : TimeSpan.FromMilliseconds(Math.Floor(chosen.TotalMilliseconds));
    }

    /// <summary>
    /// Null when a singleton with these settings can never overlap its replacement; otherwise why not, naming the
    /// settings and what would fix it.
    /// </summary>
    public static string? Check(TimeSpan fenceAfter, TimeSpan stopTimeout, TimeSpan evictionTimeout, bool fenceAfterGiven)
    {
        if (fenceAfter < MinFenceAfter)
        {
            return $"fence_after {Durations.Format(fenceAfter)} is below {Durations.Format(MinFenceAfter)}: an agent whose server vanishes needs up to "
                + $"{Durations.Format(AgentFailover)} to be heard by another, and losing one server must never stop a singleton";
        }
        var gone = OldInstanceGoneBy(fenceAfter, stopTimeout);
        if (gone + Margin <= evictionTimeout)
        {
            return null;
        }
        var need = gone + Margin;
        return $"a singleton could run twice: cut off from the servers, it is stopped at the latest fence_after {Durations.Format(fenceAfter)}"
            + (fenceAfterGiven ? "" : " (the default)") + $" + {Durations.Format(SupervisorGrace)} (supervisor) + stop_timeout {Durations.Format(stopTimeout)} = {Durations.Format(gone)} "
            + $"after its last heartbeat, and its replacement may start at eviction_timeout {Durations.Format(evictionTimeout)}; keep {Durations.Format(Margin)} between them: "
            + $"raise eviction_timeout to {Durations.Format(need)} or more, or lower fence_after or stop_timeout";
    }
}
