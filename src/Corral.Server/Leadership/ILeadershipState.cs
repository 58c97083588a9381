namespace Corral.Server.Leadership;

/// <summary>What this server knows about the control plane's leadership.</summary>
public interface ILeadershipState
{
    /// <summary>This server's name.</summary>
    string ServerName { get; }

    /// <summary>True while this server holds a term whose token is not cancelled.</summary>
    bool IsLeader { get; }

    /// <summary>The term this server holds, or null when it does not lead.</summary>
    LeadershipTerm? CurrentTerm { get; }

    /// <summary>The name of the server that leads now (read from the store), or null when nobody leads.</summary>
    Task<string?> GetLeaderAsync(CancellationToken cancellationToken);

    /// <summary>The leader's name (or null) at once, then each time it changes, until cancelled.</summary>
    IAsyncEnumerable<string?> ObserveLeaderAsync(CancellationToken cancellationToken);

    /// <summary>Gives up the current term, if any; the elector then campaigns again (behind any waiting contender).</summary>
    Task ResignAsync(CancellationToken cancellationToken);
}
