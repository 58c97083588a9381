namespace Corral.Core.Monitoring;

/// <summary>The store as the monitor saw it.</summary>
/// <param name="Reachable">The status request answered.</param>
/// <param name="Members">Members and whether each answered (empty when unreachable).</param>
/// <param name="Error">Why it is unreachable.</param>
public sealed record StoreHealth(bool Reachable, IReadOnlyList<StoreMemberHealth> Members, string? Error = null)
{
    /// <summary>Members needed for a majority.</summary>
    public int Majority => Members.Count / 2 + 1;

    /// <summary>Healthy members above the majority: how many more may fail before quorum is lost.</summary>
    public int QuorumMargin => Members.Count(m => m.Healthy) - Majority;

    /// <summary>Reachable with a healthy majority.</summary>
    public bool Healthy => Reachable && Members.Count > 0 && QuorumMargin >= 0;
}
