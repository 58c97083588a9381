using Corral.Agent.Drivers;
using Corral.Agent.Ports;
using Microsoft.Extensions.Logging;

namespace Corral.Agent.Runtime;

/// <summary>What every replica runner of one agent shares.</summary>
public sealed record RunnerServices(
    AgentOptions Options,
    ITaskDriver Driver,
    SupervisorGuard Guard,
    PortAllocator Ports,
    ILogSink Sink,
    TimeProvider Time,
    ILogger<ReplicaRunner> Logger);
