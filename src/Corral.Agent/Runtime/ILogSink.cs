using Corral.Agent.Logs;

namespace Corral.Agent.Runtime;

/// <summary>
/// Where the agent delivers its tasks' log lines (until the control plane ships them to the servers). A sink
/// records how far it got, so that after an agent crash delivery resumes exactly after the last line it took.
/// </summary>
public interface ILogSink
{
    /// <summary>The log offset after the last line delivered for <paramref name="taskId"/>; null when none was.</summary>
    long? DeliveredOffset(string taskId);

    /// <summary>Delivers lines (in log order, contiguous with what was delivered before).</summary>
    void Deliver(string taskId, IReadOnlyList<LogLine> lines);
}
