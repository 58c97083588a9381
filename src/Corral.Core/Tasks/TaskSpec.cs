namespace Corral.Core.Tasks;

/// <summary>
/// What a replica becomes on a node: one OS process (tree) with its environment, limits, ports,
/// files, restart policy and health check. Immutable; a changed spec is a new value.
/// </summary>
public sealed record TaskSpec
{
    /// <summary>The program to run: an absolute path or a name looked up on the node's PATH.</summary>
    public required string Command { get; init; }

    /// <summary>Arguments; <c>${PORT}</c>, <c>${CORRAL_PORT_NAME}</c> and <c>${ENV}</c> are expanded on the node.</summary>
    public IReadOnlyList<string> Args { get; init; } = [];

    /// <summary>Environment added to the task's; the node's own environment is not inherited beyond PATH, HOME and LANG.</summary>
    public IReadOnlyDictionary<string, string> Env { get; init; } = new Dictionary<string, string>();

    /// <summary>Working directory; when null the task directory is used.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>User to run as (name or uid); null runs as the supervisor's user.</summary>
    public string? User { get; init; }

    /// <value>Signal sent to the task's process group on stop. Default <c>SIGTERM</c>.</value>
    public string StopSignal { get; init; } = "SIGTERM";

    /// <value>Time between the stop signal and SIGKILL. Default 10 s.</value>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Memory and CPU limits, enforced through cgroups where the node allows it.</summary>
    public ResourceLimits Resources { get; init; } = ResourceLimits.None;

    /// <summary>Named ports; each gets a free port on the node. The first is also <c>PORT</c>.</summary>
    public IReadOnlyList<string> Ports { get; init; } = [];

    /// <summary>Files written into the task directory before the task starts.</summary>
    public IReadOnlyList<TaskFile> Files { get; init; } = [];

    /// <summary>When and how often the task is restarted after it exits.</summary>
    public RestartPolicy Restart { get; init; } = RestartPolicy.Default;

    /// <summary>How health is judged; null means a running task counts as healthy.</summary>
    public HealthCheckSpec? Health { get; init; }
}
