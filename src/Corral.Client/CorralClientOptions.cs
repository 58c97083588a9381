namespace Corral.Client;

/// <summary>How a <see cref="CorralClient"/> talks to its servers.</summary>
public sealed class CorralClientOptions
{
    /// <value>
    /// Longest time one request to one server may take, body included, before the next address is tried. A blocking
    /// query (events with <c>wait</c>) gets its wait on top. Default 30 s.
    /// </value>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <value>
    /// Longest time a TCP and TLS connection to one address may take before the next is tried. Default 10 s (a refused
    /// connection fails at once; this bounds silent addresses, and a loaded machine can take seconds for a handshake).
    /// </value>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <value>
    /// How long, from the first attempt, a request whose every address failed (no connection, timed out, or 503) is
    /// sent again to the whole list, with back-off from <see cref="RetryInitialDelay"/> doubling to
    /// <see cref="RetryMaxDelay"/>; the final error names every address's failure of the last round. Zero: one round
    /// only. Default zero for the library (its caller knows how long it can wait); the <c>corral</c> CLI uses 15 s
    /// (<c>--retry-for</c>), enough for a new leader to take over after the old one died.
    /// </value>
    public TimeSpan RetryFor { get; init; } = TimeSpan.Zero;

    /// <value>The wait before the first retry; doubled for each next one up to <see cref="RetryMaxDelay"/>. Default 200 ms.</value>
    public TimeSpan RetryInitialDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <value>The longest wait between two retries. Default 1 s.</value>
    public TimeSpan RetryMaxDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <value>The clock retries are timed with. Default <see cref="TimeProvider.System"/>.</value>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
