using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Corral.Core.Tasks;

namespace Corral.Core.Services;

/// <summary>
/// A named service: what each replica runs (<see cref="Task"/>), how many replicas and where. Immutable.
/// Any change except to <see cref="Replicas"/> makes a new <see cref="Version"/>.
/// </summary>
public sealed record ServiceSpec
{
    /// <value>Default eviction timeout: 30 s.</value>
    public static readonly TimeSpan DefaultEvictionTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Largest a service may be as stored (its JSON): the store's value limit, 1 MiB.</summary>
    public const int MaxStoredBytes = 1024 * 1024;

    /// <summary>Smallest allowed eviction timeout: 2 s.</summary>
    public static readonly TimeSpan MinEvictionTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Largest allowed eviction timeout: 300 s.</summary>
    public static readonly TimeSpan MaxEvictionTimeout = TimeSpan.FromSeconds(300);

    /// <summary>
    /// <see cref="Version"/> of each instance, kept beside it rather than in a field, which a <c>with</c> expression
    /// would copy into a spec it no longer describes.
    /// </summary>
    private static readonly ConditionalWeakTable<ServiceSpec, string> Versions = new();

    /// <summary>The service name, unique in the cluster: lower-case letters, digits and '-', starting with a letter.</summary>
    public required string Name { get; init; }

    /// <summary>The stack the service was deployed with.</summary>
    public required string Stack { get; init; }

    /// <summary>What each replica runs on its node.</summary>
    public required TaskSpec Task { get; init; }

    /// <value>Default <see cref="ServiceMode.Replicated"/>.</value>
    public ServiceMode Mode { get; init; } = ServiceMode.Replicated;

    /// <value>Desired replicas in replicated mode; ignored in global mode. Default 1.</value>
    public int Replicas { get; init; } = 1;

    /// <summary>Placement constraints.</summary>
    public PlacementSpec Placement { get; init; } = PlacementSpec.Anywhere;

    /// <value>How long replicas on a down node wait before they are declared lost and replaced. Default 30 s, 2–300 s.</value>
    public TimeSpan EvictionTimeout { get; init; } = DefaultEvictionTimeout;

    /// <value>
    /// For a singleton (<c>replicas: 1</c>): an agent that has reached no server for this long stops the replica itself.
    /// Bound by <see cref="SingletonTiming.Check"/>; null means <see cref="SingletonTiming.DefaultFenceAfter"/>.
    /// </value>
    public TimeSpan? FenceAfter { get; init; }

    /// <value>
    /// Bumped by <c>corral svc restart</c>: part of the version, so every replica is replaced one at a time. A stack
    /// deploy keeps the current value. Default 0.
    /// </value>
    public int Restarts { get; init; }

    /// <summary>True for a replicated service of exactly one replica: it must never run twice.</summary>
    [JsonIgnore]
    public bool IsSingleton => Mode == ServiceMode.Replicated && Replicas == 1;

    /// <summary>The fencing delay in force: <see cref="FenceAfter"/> or <see cref="SingletonTiming.DefaultFenceAfter"/>.</summary>
    [JsonIgnore]
    public TimeSpan EffectiveFenceAfter => FenceAfter ?? SingletonTiming.DefaultFenceAfter(EvictionTimeout, Task.StopTimeout);

    /// <summary>Null when this service may run as a singleton without ever overlapping its replacement; otherwise why not (<see cref="SingletonTiming.Check"/>).</summary>
    public string? SingletonTimingProblem() => SingletonTiming.Check(EffectiveFenceAfter, Task.StopTimeout, EvictionTimeout, FenceAfter is not null);

    /// <summary>
    /// A short hash of everything but <see cref="Replicas"/>: equal versions mean replicas need not be replaced.
    /// </summary>
    /// <remarks>
    /// Maps are serialised in their own order: build them sorted (the stack parser does) for a stable version.
    /// Computed once per instance, which never changes after construction (a <c>with</c> makes a new one).
    /// </remarks>
    [JsonIgnore]
    public string Version => Versions.GetValue(this, static spec => spec.ComputeVersion());

    private string ComputeVersion()
    {
        var canonical = JsonSerializer.SerializeToUtf8Bytes(this with { Replicas = 0 }, ServiceVersionJson.Default.ServiceSpec);
        var hash = SHA256.HashData(canonical);
        return Convert.ToHexStringLower(hash.AsSpan(0, 6));
    }

    public bool Equals(ServiceSpec? other) =>
        other is not null && Replicas == other.Replicas && Version == other.Version;

    public override int GetHashCode() => HashCode.Combine(Version, Replicas);

    public override string ToString() => new StringBuilder().Append(Name).Append('@').Append(Version).Append(" x").Append(Replicas).ToString();
}
