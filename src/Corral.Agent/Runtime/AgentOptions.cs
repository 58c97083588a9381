namespace Corral.Agent.Runtime;

/// <summary>Where the agent keeps its state and how it runs its supervisor and its tasks' logs.</summary>
public sealed class AgentOptions
{
    /// <summary>The agent's data directory: <c>tasks/</c> (task directories), <c>handles/</c>, <c>logs/</c> (with <see cref="LocalLogCopy"/>), <c>shipping/</c> (when joined), <c>status.json</c>, <c>supervisor/</c>.</summary>
    public required string DataDirectory { get; init; }

    /// <value>The supervisor's data directory. Default <c>DATA/supervisor</c>.</value>
    public string? SupervisorDataDirectory { get; init; }

    /// <value>The supervisor's socket. Default <c>SUPERVISOR-DATA/supervisor.sock</c>.</value>
    public string? SupervisorSocket { get; init; }

    /// <summary>
    /// The program and leading arguments that run <c>corral</c> (e.g. <c>dotnet /opt/corral/corral.dll</c>), used to
    /// start a supervisor when none answers; <c>supervisor --data-dir ...</c> is appended. Null: never start one.
    /// </summary>
    public IReadOnlyList<string>? CorralCommand { get; init; }

    /// <value>
    /// The <c>--log-level</c> given to a supervisor the agent starts (a name such as <c>debug</c>), so that both log
    /// alike; null gives none and the supervisor reads <c>CORRAL_LOG_LEVEL</c>, inherited from the agent. Default null.
    /// </value>
    public string? SupervisorLogLevel { get; init; }

    /// <value>Size at which a task's log segment is rotated. Default 10 MiB.</value>
    public long LogMaxSegmentBytes { get; init; } = 10 * 1024 * 1024;

    /// <value>Log segments kept per task. Default 5.</value>
    public int LogMaxSegments { get; init; } = 5;

    /// <value>
    /// Whether the tasks' lines are also appended to <c>DATA/logs/ID.log</c> (<see cref="FileLogSink"/>): true for a
    /// standalone agent (<c>--tasks</c>), whose only log output that is; false for an agent joined to a cluster, whose
    /// log shipper sends the segments to the servers and keeps nothing it has shipped. Default true.
    /// </value>
    public bool LocalLogCopy { get; init; } = true;

    /// <value>How often a task's log is polled for new lines. Default 100 ms.</value>
    public TimeSpan LogPollInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <value>How often the supervisor is checked for life. Default 1 s.</value>
    public TimeSpan SupervisorCheckInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <value>How often task and node stats are sampled into the status file. Default 2 s.</value>
    public TimeSpan StatsInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <value>First port handed to tasks. Default 20000.</value>
    public int FirstPort { get; init; } = 20000;

    /// <value>Last port handed to tasks. Default 32767.</value>
    public int LastPort { get; init; } = 32767;

    public string EffectiveSupervisorDataDirectory => SupervisorDataDirectory ?? Path.Combine(DataDirectory, "supervisor");

    public string EffectiveSupervisorSocket => SupervisorSocket ?? Path.Combine(EffectiveSupervisorDataDirectory, "supervisor.sock");
}
