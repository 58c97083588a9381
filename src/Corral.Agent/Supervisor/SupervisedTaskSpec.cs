namespace Corral.Agent.Supervisor;

/// <summary>
/// A fully resolved task as the supervisor runs it: nothing is expanded or looked up beyond the command
/// (on the task's PATH) and the user. The environment is the task's whole environment.
/// </summary>
public sealed record SupervisedTaskSpec
{
    /// <summary>Task id: letters, digits, <c>.</c>, <c>_</c> and <c>-</c>; unique on this node.</summary>
    public required string Id { get; init; }

    /// <summary>Absolute path, a path relative to the working directory, or a name looked up on the task's PATH.</summary>
    public required string Command { get; init; }

    public IReadOnlyList<string> Args { get; init; } = [];

    /// <summary>The task's complete environment.</summary>
    public IReadOnlyDictionary<string, string> Env { get; init; } = new Dictionary<string, string>();

    /// <summary>Existing directory the task starts in.</summary>
    public required string WorkingDirectory { get; init; }

    /// <summary>User name or uid to run as; null for the supervisor's own user.</summary>
    public string? User { get; init; }

    /// <value>Default <c>SIGTERM</c>.</value>
    public string StopSignal { get; init; } = DefaultStopSignal;

    /// <value>Milliseconds between the stop signal and SIGKILL. Default 10,000.</value>
    public long StopTimeoutMs { get; init; } = DefaultStopTimeoutMs;

    /// <summary>Hard memory limit of the task's cgroup; null for none.</summary>
    public long? MemoryBytes { get; init; }

    /// <summary>CPU share in cores, written as cgroup weight and quota; null for none.</summary>
    public double? Cpu { get; init; }

    /// <summary>Directory of the task's log segments.</summary>
    public required string LogDirectory { get; init; }

    /// <value>Size after which a segment is rotated. Default 10 MiB.</value>
    public long LogMaxSegmentBytes { get; init; } = DefaultLogMaxSegmentBytes;

    /// <value>Segments kept. Default 5.</value>
    public int LogMaxSegments { get; init; } = DefaultLogMaxSegments;

    public const string DefaultStopSignal = "SIGTERM";
    public const long DefaultStopTimeoutMs = 10_000;
    public const long DefaultLogMaxSegmentBytes = 10 * 1024 * 1024;
    public const int DefaultLogMaxSegments = 5;

    /// <summary>
    /// Fills what a hand-written request left out (JSON without a field yields null or 0 for it) with the
    /// documented defaults. A stop timeout of 0 is kept: it means SIGKILL right after the stop signal.
    /// </summary>
    public SupervisedTaskSpec WithDefaults() => this with
    {
        Args = Args ?? [],
        Env = Env ?? new Dictionary<string, string>(),
        StopSignal = StopSignal ?? DefaultStopSignal,
        LogMaxSegmentBytes = LogMaxSegmentBytes == 0 ? DefaultLogMaxSegmentBytes : LogMaxSegmentBytes,
        LogMaxSegments = LogMaxSegments == 0 ? DefaultLogMaxSegments : LogMaxSegments,
    };
}
