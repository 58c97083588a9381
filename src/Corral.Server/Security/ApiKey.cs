using System.Security.Cryptography;
using System.Text;

namespace Corral.Server.Security;

/// <summary>
/// An API key as given to a person or script: <c>crl_ID_SECRET</c>, where ID (12 hex) names the key and SECRET
/// (43 base64url characters, 256 bits) proves it. Only a SHA-256 hash of the secret is stored.
/// </summary>
public sealed record ApiKey(string Id, string Secret)
{
    public const string Prefix = "crl_";

    public override string ToString() => $"{Prefix}{Id}_{Secret}";

    /// <summary>A new random key.</summary>
    public static ApiKey Generate()
    {
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return new ApiKey(id, secret);
    }

    /// <summary>Parses <c>crl_ID_SECRET</c>; false for anything else.</summary>
    public static bool TryParse(string? text, out ApiKey key)
    {
        key = new ApiKey("", "");
        if (text is null || !text.StartsWith(Prefix, StringComparison.Ordinal) || text.Length != Prefix.Length + 12 + 1 + 43 || text[Prefix.Length + 12] != '_')
        {
            return false;
        }
        var id = text.Substring(Prefix.Length, 12);
        var secret = text[(Prefix.Length + 13)..];
        if (!id.All(char.IsAsciiHexDigitLower) || !secret.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            return false;
        }
        key = new ApiKey(id, secret);
        return true;
    }

    /// <summary>The hash stored for this key's secret.</summary>
    public string SecretHash => Hash(Secret);

    public static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    /// <summary>True when this key's secret matches <paramref name="storedHash"/> (constant time).</summary>
    public bool Matches(string storedHash) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(SecretHash), Encoding.ASCII.GetBytes(storedHash));
}
