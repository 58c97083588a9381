namespace Corral.Core.Tasks;

/// <summary>When a task that exited is started again.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(EnumJsonConverter<RestartMode>))]
public enum RestartMode
{
    /// <summary>Restart after every exit, successful or not.</summary>
    Always,

    /// <summary>Restart only after a non-zero exit or a death by signal.</summary>
    OnFailure,

    /// <summary>Never restart; the replica ends <c>exited</c> (code 0) or <c>failed</c>.</summary>
    Never,
}

/// <summary>
/// Restart policy: at most <see cref="MaxAttempts"/> restarts within <see cref="Window"/>, each after an
/// exponential back-off from <see cref="Backoff"/> doubling up to <see cref="MaxBackoff"/>, with jitter.
/// Past the limit the replica is <c>failed</c>.
/// </summary>
public sealed record RestartPolicy
{
    /// <value>Default <see cref="RestartMode.Always"/>.</value>
    public RestartMode Mode { get; init; } = RestartMode.Always;

    /// <value>Restarts allowed within <see cref="Window"/>. Default 5.</value>
    public int MaxAttempts { get; init; } = 5;

    /// <value>Sliding window over which restarts are counted. Default 5 minutes.</value>
    public TimeSpan Window { get; init; } = TimeSpan.FromMinutes(5);

    /// <value>Delay before the first restart; doubles with each further restart in the window. Default 1 s.</value>
    public TimeSpan Backoff { get; init; } = TimeSpan.FromSeconds(1);

    /// <value>Upper bound of the back-off. Default 30 s.</value>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(30);

    /// <value>Fraction of the delay added or removed at random (0 to 1). Default 0.1.</value>
    public double Jitter { get; init; } = 0.1;

    public static RestartPolicy Default { get; } = new();
}
