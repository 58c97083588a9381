namespace Corral.Core.Services;

/// <summary>How many replicas a service wants.</summary>
public enum ServiceMode
{
    /// <summary>A fixed number of replicas, placed by the scheduler.</summary>
    Replicated,

    /// <summary>One replica on every eligible node.</summary>
    Global,
}
