using System.Text.Json.Serialization;

namespace Corral.Agent.Drivers;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(ProcessDriverState))]
[JsonSerializable(typeof(TaskHandle))]
internal sealed partial class DriverJsonContext : JsonSerializerContext;
