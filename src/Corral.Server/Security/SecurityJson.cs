using System.Text.Json.Serialization;

namespace Corral.Server.Security;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, UseStringEnumConverter = true)]
[JsonSerializable(typeof(ApiKeyRecord))]
[JsonSerializable(typeof(JoinTokenRecord))]
[JsonSerializable(typeof(NodeCertificateRecord))]
[JsonSerializable(typeof(RevokedCertificate))]
internal sealed partial class SecurityJson : JsonSerializerContext;
