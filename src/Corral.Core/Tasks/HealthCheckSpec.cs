namespace Corral.Core.Tasks;

/// <summary>The kind of probe a health check runs.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(EnumJsonConverter<HealthCheckKind>))]
public enum HealthCheckKind
{
    /// <summary>HTTP GET on 127.0.0.1 at the task's port; any 2xx is healthy.</summary>
    Http,

    /// <summary>A TCP connect to 127.0.0.1 at the task's port.</summary>
    Tcp,

    /// <summary>A command run on the node; exit code 0 is healthy.</summary>
    Exec,
}

/// <summary>
/// A health check: a probe every <see cref="Interval"/>, failing after <see cref="Timeout"/>;
/// <see cref="Retries"/> consecutive failures make the replica unhealthy, one success makes it healthy.
/// Failures during <see cref="StartPeriod"/> after start do not count.
/// </summary>
public sealed record HealthCheckSpec
{
    public required HealthCheckKind Kind { get; init; }

    /// <summary>For <see cref="HealthCheckKind.Http"/>: the path, default <c>/</c>.</summary>
    public string? Path { get; init; }

    /// <summary>For HTTP and TCP: the named port to probe; null means the first port.</summary>
    public string? Port { get; init; }

    /// <summary>For <see cref="HealthCheckKind.Exec"/>: the command and its arguments.</summary>
    public IReadOnlyList<string> Command { get; init; } = [];

    /// <value>Default 2 s.</value>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(2);

    /// <value>Default 1 s.</value>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <value>Consecutive failures before unhealthy. Default 3.</value>
    public int Retries { get; init; } = 3;

    /// <value>Grace after start during which failures do not count. Default 0.</value>
    public TimeSpan StartPeriod { get; init; } = TimeSpan.Zero;
}
