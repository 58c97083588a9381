using System.Text.Json.Serialization;
using Corral.Core.Tasks;

namespace Corral.Core.Services;

/// <summary>
/// The canonical JSON a <see cref="ServiceSpec.Version"/> is hashed from: the forms <see cref="CoreJson"/> wrote before
/// durations and enums took the stack file's forms (<c>00:00:30</c>, <c>OnFailure</c>), kept so that a service's version,
/// and with it every replica that runs it, survives an upgrade. Never shown, never read.
/// </summary>
/// <remarks>The converters named here win over the enums' own; an enum added to <see cref="ServiceSpec"/> belongs here too.</remarks>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters = [typeof(JsonStringEnumConverter<ServiceMode>), typeof(JsonStringEnumConverter<RestartMode>), typeof(JsonStringEnumConverter<HealthCheckKind>)])]
[JsonSerializable(typeof(ServiceSpec))]
internal sealed partial class ServiceVersionJson : JsonSerializerContext;
