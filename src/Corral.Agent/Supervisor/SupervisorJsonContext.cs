using System.Text.Json.Serialization;

namespace Corral.Agent.Supervisor;

/// <summary>Source-generated JSON for the supervisor's socket protocol and state files (camelCase, enums as lower-case strings, read in any case).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(SupervisorRequest))]
[JsonSerializable(typeof(SupervisorResponse))]
[JsonSerializable(typeof(SupervisedTaskInfo))]
public sealed partial class SupervisorJsonContext : JsonSerializerContext;
