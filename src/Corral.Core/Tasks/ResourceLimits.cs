namespace Corral.Core.Tasks;

/// <summary>Memory and CPU limits of one task (its whole process tree).</summary>
/// <param name="MemoryBytes">Hard memory limit in bytes; null for none.</param>
/// <param name="Cpu">CPU share in cores (0.5 = half a core), used as the cgroup weight and quota; null for none.</param>
public sealed record ResourceLimits(long? MemoryBytes, double? Cpu)
{
    public static ResourceLimits None { get; } = new(null, null);
}
