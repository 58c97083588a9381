namespace Corral.Testing.Lab;

/// <summary>
/// A replica's process on an agent host of a <see cref="ServerLab"/>, read from the kernel: the host, its PID, the
/// service (by its command line), the <c>ROUND</c> of its environment, and its start time (ticks since boot), so that
/// a restarted process is told apart even if its PID were reused.
/// </summary>
public sealed record ReplicaProcess(string Host, int Pid, string Service, string Round, long StartTime);
