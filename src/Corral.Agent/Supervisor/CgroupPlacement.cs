namespace Corral.Agent.Supervisor;

/// <summary>The cgroup directories made for one task, and why its limits are not enforced when they are not.</summary>
internal sealed record CgroupPlacement(IReadOnlyList<string> Directories, string? LimitsNote);
