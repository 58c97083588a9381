namespace Corral.Server.Security;

/// <summary>An API key as stored: never the secret, only its SHA-256.</summary>
public sealed record ApiKeyRecord(string Id, string Name, Role Role, string SecretHash, DateTimeOffset CreatedAt, string CreatedBy, DateTimeOffset? RevokedAt);
