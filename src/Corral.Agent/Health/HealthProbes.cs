using Corral.Core.Tasks;

namespace Corral.Agent.Health;

/// <summary>Builds the probe a <see cref="HealthCheckSpec"/> describes.</summary>
public static class HealthProbes
{
    /// <summary>
    /// The probe for <paramref name="spec"/>. HTTP and TCP probe the port named by <see cref="HealthCheckSpec.Port"/>,
    /// or, when that is null, the first entry of <paramref name="ports"/> (the order the task spec names its ports).
    /// </summary>
    /// <exception cref="ArgumentException">The spec names a port the task does not have, the task has no ports, or an exec check has no command.</exception>
    public static IHealthProbe Create(HealthCheckSpec spec, IReadOnlyDictionary<string, int> ports, string workingDirectory)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(ports);
        ArgumentNullException.ThrowIfNull(workingDirectory);
        return spec.Kind switch
        {
            HealthCheckKind.Http => new HttpHealthProbe(PortFor(spec, ports), spec.Path),
            HealthCheckKind.Tcp => new TcpHealthProbe(PortFor(spec, ports)),
            HealthCheckKind.Exec => new ExecHealthProbe(spec.Command, workingDirectory),
            _ => throw new ArgumentException($"unknown health check kind {spec.Kind}", nameof(spec)),
        };
    }

    private static int PortFor(HealthCheckSpec spec, IReadOnlyDictionary<string, int> ports)
    {
        var kind = spec.Kind.ToString().ToUpperInvariant();
        if (spec.Port is null)
        {
            foreach (var (_, port) in ports)
            {
                return port;
            }
            throw new ArgumentException($"{kind} health check needs a port, but the task has no ports", nameof(ports));
        }
        return ports.TryGetValue(spec.Port, out var named)
            ? named
            : throw new ArgumentException(
                $"{kind} health check port '{spec.Port}' is not one of the task's ports ({(ports.Count == 0 ? "none" : string.Join(", ", ports.Keys))})",
                nameof(spec));
    }
}
