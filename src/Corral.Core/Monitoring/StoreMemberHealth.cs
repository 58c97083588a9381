namespace Corral.Core.Monitoring;

/// <summary>One store member.</summary>
public sealed record StoreMemberHealth(string Name, bool Healthy, string? Error = null);
