using System.Text.Json.Serialization;

namespace Corral.Server.Security;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, UseStringEnumConverter = true)]
[JsonSerializable(typeof(ApiKeyRecord))]
[JsonSerializable(typeof(JoinTokenRecord))]
internal sealed partial class SecurityJson : JsonSerializerContext;
