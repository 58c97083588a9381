namespace Corral.Server.Leadership;

/// <summary>
/// Work that runs only on the leader (Nomad's leader loops). For each term the elector calls
/// <see cref="EstablishAsync"/> on every controller, then runs <see cref="RunAsync"/> on each until the term's token is
/// cancelled, then waits for every run to return and calls <see cref="RevokeAsync"/>.
/// </summary>
public interface ILeaderController
{
    /// <summary>A short name for logs.</summary>
    string Name { get; }

    /// <summary>
    /// Prepares a new term (e.g. resets in-memory state that was built by an earlier term). A failure ends the term:
    /// the elector revokes what it established, resigns and campaigns again.
    /// </summary>
    Task EstablishAsync(LeadershipTerm term, CancellationToken cancellationToken);

    /// <summary>
    /// Does the controller's work until <paramref name="cancellationToken"/> (cancelled with the term, or at shutdown)
    /// is cancelled. An exception is logged and the run is started again after a short delay within the same term.
    /// </summary>
    Task RunAsync(LeadershipTerm term, CancellationToken cancellationToken);

    /// <summary>Called once the term is over and <see cref="RunAsync"/> has returned. Must be safe to call after a failed establish.</summary>
    Task RevokeAsync(CancellationToken cancellationToken);
}
