using System.Text.Json.Serialization;
using Corral.Core.Services;
using Corral.Core.Tasks;

namespace Corral.Core;

/// <summary>
/// System.Text.Json source generation for Core's records (wire and store formats): snake_case names, durations and
/// enums in the stack file's forms (<c>30s</c>, <c>on-failure</c>; see <see cref="DurationJsonConverter"/> and
/// <see cref="EnumJsonConverter{T}"/>, which also read the forms earlier versions stored).
/// </summary>
/// <remarks>
/// Serializers built on other options (ASP.NET Core's, with this context in their resolver chain) must add
/// <see cref="DurationJsonConverter"/> themselves: converters named here apply only to this context's own options.
/// </remarks>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true,
    Converters = [typeof(DurationJsonConverter)])]
[JsonSerializable(typeof(ServiceSpec))]
[JsonSerializable(typeof(TaskSpec))]
[JsonSerializable(typeof(Corral.Core.Cluster.Node))]
[JsonSerializable(typeof(Corral.Core.Cluster.Replica))]
[JsonSerializable(typeof(Corral.Core.Api.ServiceView))]
[JsonSerializable(typeof(List<Corral.Core.Api.ServiceView>))]
[JsonSerializable(typeof(Corral.Core.Api.NodeView))]
[JsonSerializable(typeof(List<Corral.Core.Api.NodeView>))]
[JsonSerializable(typeof(List<Corral.Core.Api.ReplicaView>))]
[JsonSerializable(typeof(Corral.Core.Api.DeployRequest))]
[JsonSerializable(typeof(Corral.Core.Api.DeployResult))]
[JsonSerializable(typeof(Corral.Core.Api.ScaleRequest))]
[JsonSerializable(typeof(Corral.Core.Api.NodeLabelsRequest))]
[JsonSerializable(typeof(Corral.Core.Api.ClusterEvent))]
[JsonSerializable(typeof(Corral.Core.Api.EventPage))]
[JsonSerializable(typeof(Corral.Core.Api.ApiKeyCreateRequest))]
[JsonSerializable(typeof(Corral.Core.Api.ApiKeyCreated))]
[JsonSerializable(typeof(List<Corral.Core.Api.ApiKeyView>))]
[JsonSerializable(typeof(Corral.Core.Api.JoinTokenCreateRequest))]
[JsonSerializable(typeof(Corral.Core.Api.JoinTokenCreated))]
[JsonSerializable(typeof(List<Corral.Core.Api.JoinTokenView>))]
[JsonSerializable(typeof(Corral.Core.Api.JoinRequest))]
[JsonSerializable(typeof(Corral.Core.Api.JoinResponse))]
[JsonSerializable(typeof(Corral.Core.Api.ClusterStatus))]
[JsonSerializable(typeof(Corral.Core.Api.StoreMemberView))]
[JsonSerializable(typeof(Corral.Core.Api.ServerJoinRequest))]
[JsonSerializable(typeof(Corral.Core.Api.ServerJoinResponse))]
[JsonSerializable(typeof(Corral.Core.Api.AgentRegistration))]
[JsonSerializable(typeof(Corral.Core.Api.AssignmentSet))]
[JsonSerializable(typeof(Corral.Core.Api.AgentHeartbeat))]
[JsonSerializable(typeof(Corral.Core.Api.HeartbeatAck))]
[JsonSerializable(typeof(List<Corral.Core.Api.FieldError>))]
[JsonSerializable(typeof(Corral.Core.Api.ClientConfig))]
[JsonSerializable(typeof(Corral.Core.Api.AgentLogBatch))]
[JsonSerializable(typeof(Corral.Core.Api.AgentLogChunk))]
[JsonSerializable(typeof(Corral.Core.Api.LogRecord))]
[JsonSerializable(typeof(Corral.Core.Api.Alarm))]
[JsonSerializable(typeof(List<Corral.Core.Api.Alarm>))]
[JsonSerializable(typeof(Corral.Core.Api.HealthReport))]
[JsonSerializable(typeof(Corral.Core.Api.AlarmNotification))]
[JsonSerializable(typeof(Corral.Core.Api.CertificateRenewRequest))]
[JsonSerializable(typeof(Corral.Core.Api.WhoAmI))]
[JsonSerializable(typeof(Corral.Core.Api.NodeDigest))]
public sealed partial class CoreJson : JsonSerializerContext;
