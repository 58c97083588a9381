namespace Corral.Testing.Lab;

/// <summary>One 20 ms interval of an <see cref="ArpProbe"/>: when it started and which MACs answered in it.</summary>
public sealed record ArpProbeInterval(int Index, DateTimeOffset Start, IReadOnlyList<string> Macs);
