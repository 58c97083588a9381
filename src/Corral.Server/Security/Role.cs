namespace Corral.Server.Security;

/// <summary>What an API key may do; each role includes the ones before it.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(Corral.Core.EnumJsonConverter<Role>))]
public enum Role
{
    /// <summary>Only scrape <c>/metrics</c> (a key for Prometheus).</summary>
    Metrics = 0,

    /// <summary>Read everything (and scrape /metrics).</summary>
    Viewer = 1,

    /// <summary>Also deploy, scale, restart, drain.</summary>
    Operator = 2,

    /// <summary>Also manage keys and join tokens, remove nodes.</summary>
    Admin = 3,
}
