using System.Net;

namespace Corral.Cli;

/// <summary>
/// The exit codes of <c>corral</c>, the same for every verb (docs/cli.md). Scripts may rely on them.
/// </summary>
public static class ExitCodes
{
    /// <summary>Done.</summary>
    public const int Ok = 0;

    /// <summary>Anything else went wrong: bad input (400, e.g. an invalid stack file), an unreadable file, a server error.</summary>
    public const int Failure = 1;

    /// <summary>Bad command line, or no target (address, key, CA) could be worked out.</summary>
    public const int Usage = 2;

    /// <summary>The service, node or key does not exist (404).</summary>
    public const int NotFound = 3;

    /// <summary>A conflict (409): e.g. a service of that name belongs to another stack, or the state kept changing.</summary>
    public const int Conflict = 4;

    /// <summary>No, unknown or revoked API key (401), or a key whose role is too low (403).</summary>
    public const int Unauthorized = 5;

    /// <summary>No server could be reached (connection refused, timed out) or the store has no quorum (503).</summary>
    public const int Unavailable = 6;

    /// <summary><c>corral deploy</c>: the deploy was applied but not every replica was running and healthy within <c>--timeout</c>.</summary>
    public const int DeployTimedOut = 7;

    /// <summary>Interrupted by Ctrl-C or SIGTERM (128 + SIGINT), except <c>corral events -f</c>, which ends with <see cref="Ok"/>.</summary>
    public const int Interrupted = 130;

    /// <summary>The exit code for an HTTP error status from the API.</summary>
    public static int FromStatus(HttpStatusCode status) => status switch
    {
        HttpStatusCode.NotFound => NotFound,
        HttpStatusCode.Conflict => Conflict,
        HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => Unauthorized,
        HttpStatusCode.ServiceUnavailable => Unavailable,
        _ => Failure,
    };
}
