using System.Text.Json.Serialization;
using Corral.Core.Services;
using Corral.Core.Tasks;

namespace Corral.Core;

/// <summary>System.Text.Json source generation for Core's records (wire and store formats).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(ServiceSpec))]
[JsonSerializable(typeof(TaskSpec))]
public sealed partial class CoreJson : JsonSerializerContext;
