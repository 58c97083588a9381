using System.Security.Cryptography.X509Certificates;

namespace Corral.Agent.ControlPlane;

/// <summary>How an agent reaches the control plane.</summary>
public sealed class ServerConnectionOptions
{
    /// <summary>Server URLs (<c>https://host:port</c>); tried in order, cycling on failure.</summary>
    public required IReadOnlyList<Uri> Servers { get; init; }

    /// <summary>This node's name.</summary>
    public required string NodeName { get; init; }

    /// <summary>The cluster CA: the only certificate the agent trusts for the servers.</summary>
    public required X509Certificate2 ClusterCa { get; init; }

    /// <summary>This node's client certificate (with key), when the cluster issued one.</summary>
    public X509Certificate2? ClientCertificate { get; init; }

    /// <summary>Operator-set labels reported at registration.</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    /// <value>How many ports the agent hands to tasks (its <c>--ports</c> range), reported at registration. Default 12,768 (20000–32767).</value>
    public int PortCapacity { get; init; } = Core.Cluster.Node.DefaultPortCapacity;

    /// <value>Heartbeat period. Default 1 s.</value>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <value>
    /// Deadline of one heartbeat (and registration) at one server; past it the agent sends the heartbeat to the next
    /// server at once. Together with HTTP/2 PINGs every <see cref="PingInterval"/> on the connection, a server that
    /// vanishes without a reset (frozen, cut off) is left within about this long, and another server hears the agent
    /// within a heartbeat interval plus this (under 2 s). Default 800 ms; 100 ms to 10 s.
    /// </value>
    public TimeSpan HeartbeatTimeout { get; init; } = TimeSpan.FromMilliseconds(800);

    /// <value>
    /// HTTP/2 PING interval on the connection to a server, and how long a PING may go unanswered before the connection
    /// (and every request on it, the assignments long-poll included) fails. Default 1 s.
    /// </value>
    public TimeSpan PingInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <value>Pause before trying the servers again once every one of them failed in a row. Default 1 s.</value>
    public TimeSpan RetryInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <value>How long one assignments long-poll may block at the server. Default 30 s.</value>
    public TimeSpan AssignmentWait { get; init; } = TimeSpan.FromSeconds(30);

    /// <value>
    /// Share of the client certificate's validity after which the agent asks for a new one (when its identity is stored
    /// in the data dir). Default 2/3; 0.1 to 0.95.
    /// </value>
    public double RenewAt { get; init; } = 2.0 / 3.0;

    /// <summary>Every problem with these options, each naming its field; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Servers.Count == 0)
        {
            errors.Add("Servers: at least one server URL is required");
        }
        foreach (var server in Servers)
        {
            if (server.Scheme != Uri.UriSchemeHttps)
            {
                errors.Add($"Servers: '{server}' must be an https:// URL");
            }
        }
        if (string.IsNullOrWhiteSpace(NodeName))
        {
            errors.Add("NodeName: required");
        }
        if (HeartbeatInterval <= TimeSpan.Zero || HeartbeatInterval > TimeSpan.FromMinutes(1))
        {
            errors.Add($"HeartbeatInterval: {HeartbeatInterval} must be between 0 and 1 minute");
        }
        if (HeartbeatTimeout < TimeSpan.FromMilliseconds(100) || HeartbeatTimeout > TimeSpan.FromSeconds(10))
        {
            errors.Add($"HeartbeatTimeout: {HeartbeatTimeout} must be between 100 ms and 10 s");
        }
        if (PingInterval < TimeSpan.FromMilliseconds(100) || PingInterval > TimeSpan.FromMinutes(1))
        {
            errors.Add($"PingInterval: {PingInterval} must be between 100 ms and 1 minute");
        }
        if (RetryInterval <= TimeSpan.Zero)
        {
            errors.Add($"RetryInterval: {RetryInterval} must be positive");
        }
        if (AssignmentWait < TimeSpan.FromSeconds(1) || AssignmentWait > TimeSpan.FromMinutes(5))
        {
            errors.Add($"AssignmentWait: {AssignmentWait} must be between 1 s and 5 min");
        }
        if (!(RenewAt >= 0.1 && RenewAt <= 0.95))
        {
            errors.Add($"RenewAt: {RenewAt} must be a share of the certificate's validity from 0.1 to 0.95");
        }
        return errors;
    }
}
