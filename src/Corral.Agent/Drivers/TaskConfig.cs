using Corral.Core.Tasks;

namespace Corral.Agent.Drivers;

/// <summary>
/// A task as the runtime hands it to a driver: everything expanded and resolved on the node
/// (ports, <c>${...}</c> in args, the whole environment, the task directory).
/// </summary>
public sealed record TaskConfig
{
    public required string Id { get; init; }

    public required string Command { get; init; }

    public IReadOnlyList<string> Args { get; init; } = [];

    /// <summary>The task's complete environment.</summary>
    public IReadOnlyDictionary<string, string> Env { get; init; } = new Dictionary<string, string>();

    public required string WorkingDirectory { get; init; }

    public string? User { get; init; }

    public string StopSignal { get; init; } = "SIGTERM";

    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public ResourceLimits Resources { get; init; } = ResourceLimits.None;

    /// <summary>Directory of the task's log segments.</summary>
    public required string LogDirectory { get; init; }

    /// <value>Default 10 MiB.</value>
    public long LogMaxSegmentBytes { get; init; } = 10 * 1024 * 1024;

    /// <value>Default 5.</value>
    public int LogMaxSegments { get; init; } = 5;
}
