namespace Corral.Core.Monitoring;

/// <summary>A service's desired and healthy replica counts.</summary>
public sealed record ServiceHealth(string Name, int Desired, int Healthy);
