using Corral.Store;

namespace Corral.Server.Vip;

/// <summary>
/// The rule that gives the VIP a kernel lifetime ending no later than the leadership term's step-down deadline, so a
/// leader whose process freezes (SIGSTOP, a hung process, a paused container) loses the address by itself, in its
/// kernel, before another server can win the lease and add it. Each acknowledged lease renewal moves the deadline and
/// sets the lifetime again.
/// </summary>
/// <remarks>
/// Linux deletes an IPv4 address whose valid lifetime ran out in a worker (net/ipv4/devinet.c, <c>check_lifetime</c>)
/// that runs at most about once a second, rounds its next run up to a whole second (up to a quarter second late) and
/// counts an address as expired 20 ms (<c>HZ / 50</c>) early. Measured here (Linux 6.18, 2 cores shared with other
/// labs; 450 renewals of a 1 s lifetime, the deletion timed by the kernel's RTM_DELADDR notification): deleted
/// 0.98–1.97 s after the last renewal; of the 300 recorded one by one, median 1.03 s, 95 % within 1.26 s, 99 % within
/// 1.41 s. The rule allows <see cref="KernelLateness"/> (300 ms) for that; the 4 % later than 1.3 s (up to +0.97 s) came
/// before the lease's TTL had run since that renewal (2 s), the earliest another server can lead. A longer allowance
/// would leave a renewal no time to be answered (200 ms by default) before it no longer extends the lifetime. Another
/// IPv4 address added or changed in the same network namespace within that second postpones the deletion to a second
/// after it (the worker then waits at least a second): measured 1.3–1.96 s; on kernels before the worker was made per
/// namespace, an address added anywhere on the machine does. docs/ha-vip.md has the numbers.
/// </remarks>
public static class VipLifetime
{
    /// <summary>How much later than its lifetime the kernel may delete the address, allowed for by <see cref="For"/>.</summary>
    public static readonly TimeSpan KernelLateness = TimeSpan.FromMilliseconds(300);

    /// <summary>How much earlier than its lifetime the kernel may delete the address (<c>ADDRCONF_TIMER_FUZZ_MINUS</c>).</summary>
    public static readonly TimeSpan KernelEarliness = TimeSpan.FromMilliseconds(20);

    /// <summary>The least lifetime: the kernel counts lifetimes in whole seconds, and 0 is refused.</summary>
    public static readonly TimeSpan Least = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The lifetime to set at <paramref name="now"/> for a term whose step-down deadline is <paramref name="deadline"/>:
    /// the whole seconds of <c>deadline - now - KernelLateness</c>, rounded down, so the kernel deletes the address by
    /// the deadline; null when that is less than <see cref="Least"/> (the lifetime is then not extended).
    /// </summary>
    public static TimeSpan? For(DateTimeOffset deadline, DateTimeOffset now)
    {
        var room = deadline - now - KernelLateness;
        return room < Least ? null : TimeSpan.FromSeconds(Math.Floor(room.TotalSeconds));
    }

    /// <summary>
    /// True when a lifetime set at some moment up to <paramref name="calledBy"/> (read right after the kernel took it)
    /// is not certain to end by <paramref name="deadline"/>: the call reached the kernel later than the clock reading
    /// it was computed from (the process was stopped or starved in between).
    /// </summary>
    public static bool Outlasts(DateTimeOffset calledBy, TimeSpan lifetime, DateTimeOffset deadline) =>
        calledBy + lifetime + KernelLateness > deadline;

    /// <summary>
    /// True when terms of <paramref name="election"/>'s timing can give the VIP a lifetime at all: a renewal answered at
    /// once leaves <c>TTL - margin</c> until the deadline, which must hold <see cref="Least"/> plus
    /// <see cref="KernelLateness"/>. True for the default timing (2 s - 500 ms = 1.5 s; a renewal answered within
    /// 200 ms extends the lifetime), false for <c>--timing fast</c> (1 s - 250 ms = 750 ms).
    /// </summary>
    public static bool Fits(ElectionOptions election)
    {
        ArgumentNullException.ThrowIfNull(election);
        return election.GrantedTtl - election.EffectiveStepDownMargin >= Least + KernelLateness;
    }
}
