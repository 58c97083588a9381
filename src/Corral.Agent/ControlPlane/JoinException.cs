namespace Corral.Agent.ControlPlane;

/// <summary>A join failed; the message says why, for the operator.</summary>
/// <param name="Status">The server's HTTP status when it refused the join; null when the agent refused the server.</param>
public sealed class JoinException(string message, int? status = null, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The server's HTTP status when it refused the join; null when the agent refused the server or could not reach it.</summary>
    public int? Status { get; } = status;
}
