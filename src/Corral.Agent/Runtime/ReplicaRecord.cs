using Corral.Agent.Drivers;
using Corral.Core.Tasks;

namespace Corral.Agent.Runtime;

/// <summary>
/// What the agent saves per replica (<c>DATA/handles/ID.json</c>, written atomically) so that a restarted agent
/// re-attaches instead of restarting: the driver handle, the log offset delivered so far, the ports, the spec it
/// runs and its last status.
/// </summary>
public sealed record ReplicaRecord
{
    public required string TaskId { get; init; }

    /// <summary>The spec the task was started from (a changed spec means a restart).</summary>
    public required TaskSpec Spec { get; init; }

    public TaskHandle? Handle { get; init; }

    public long LogOffset { get; init; }

    public IReadOnlyDictionary<string, int> Ports { get; init; } = new Dictionary<string, int>();

    public ReplicaStatus? Status { get; init; }
}
