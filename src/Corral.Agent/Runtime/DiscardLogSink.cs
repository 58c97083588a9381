using Corral.Agent.Logs;

namespace Corral.Agent.Runtime;

/// <summary>
/// The sink of an agent joined to a cluster: its <see cref="LogShipper"/> ships the tasks' segments to the servers
/// itself, so delivered lines are not copied anywhere (the runner still tracks how far its task wrote).
/// </summary>
public sealed class DiscardLogSink : ILogSink
{
    public long? DeliveredOffset(string taskId) => null;

    public void Deliver(string taskId, IReadOnlyList<LogLine> lines)
    {
    }
}
