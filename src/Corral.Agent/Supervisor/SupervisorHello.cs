namespace Corral.Agent.Supervisor;

/// <summary>Who answers on the socket: a new <see cref="InstanceId"/> means the supervisor was restarted.</summary>
public sealed record SupervisorHello(int Pid, string InstanceId, DateTimeOffset StartedAt, string Version, string CgroupMode);
