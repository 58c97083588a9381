using System.Text.Json.Serialization;

namespace Corral.Agent.ControlPlane;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(NodeIdentity.NodeInfo))]
internal sealed partial class NodeIdentityJson : JsonSerializerContext;
