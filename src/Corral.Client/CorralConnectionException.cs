namespace Corral.Client;

/// <summary>
/// No server could be reached or trusted: every address was tried. <see cref="Failures"/> says, per address, why
/// (connection refused, timed out, certificate not from the cluster CA, ...).
/// </summary>
public sealed class CorralConnectionException : Exception
{
    public CorralConnectionException(IReadOnlyList<string> failures, bool trustFailure)
        : base(Describe(failures, trustFailure))
    {
        Failures = failures;
        IsTrustFailure = trustFailure;
    }

    public CorralConnectionException()
        : this([], false)
    {
    }

    public CorralConnectionException(string message)
        : base(message)
    {
        Failures = [message];
    }

    public CorralConnectionException(string message, Exception innerException)
        : base(message, innerException)
    {
        Failures = [message];
    }

    /// <summary>One line per address tried: the address and why it failed.</summary>
    public IReadOnlyList<string> Failures { get; }

    /// <summary>True when at least one server answered but its certificate was refused (not from the pinned CA).</summary>
    public bool IsTrustFailure { get; }

    private static string Describe(IReadOnlyList<string> failures, bool trustFailure)
    {
        var head = trustFailure
            ? "cannot reach a trusted Corral server"
            : "cannot reach a Corral server";
        return failures.Count == 0 ? head : head + ":\n  " + string.Join("\n  ", failures);
    }
}
