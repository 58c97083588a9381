namespace Corral.Core.Services;

/// <summary>How many replicas a service wants.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(EnumJsonConverter<ServiceMode>))]
public enum ServiceMode
{
    /// <summary>A fixed number of replicas, placed by the scheduler.</summary>
    Replicated,

    /// <summary>One replica on every eligible node.</summary>
    Global,
}
