namespace Corral.Server.Security;

/// <summary>A join token as stored: never the secret, only its SHA-256.</summary>
/// <param name="Uses">How many joins the token allowed when created.</param>
/// <param name="UsesLeft">How many joins it still allows; each join takes one, atomically.</param>
public sealed record JoinTokenRecord(
    string Id,
    string Role,
    string SecretHash,
    DateTimeOffset CreatedAt,
    string CreatedBy,
    DateTimeOffset ExpiresAt,
    int Uses,
    int UsesLeft,
    DateTimeOffset? RevokedAt);
