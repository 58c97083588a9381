using System.Security.Cryptography;
using System.Text;

namespace Corral.Core.Security;

/// <summary>
/// A join token as given to an operator: <c>K10PIN::ID.SECRET</c> (the shape of k3s's tokens). PIN is the hex SHA-256
/// of the cluster CA's public key (<see cref="CaPin"/> without its prefix), so a joining node can check the server
/// before trusting it; ID (12 hex) names the token; SECRET (64 hex, 256 bits) proves it. Servers keep only a SHA-256
/// hash of the secret.
/// </summary>
public sealed record JoinToken(string CaPinHex, string Id, string Secret)
{
    public const string Prefix = "K10";

    public override string ToString() => $"{Prefix}{CaPinHex}::{Id}.{Secret}";

    /// <summary>The pin in <see cref="CaPin"/> form (<c>sha256:…</c>).</summary>
    public string CaPin => Security.CaPin.Prefix + CaPinHex;

    /// <summary>A new random token for the CA with pin <paramref name="caPin"/> (with or without <c>sha256:</c>).</summary>
    public static JoinToken Generate(string caPin)
    {
        ArgumentNullException.ThrowIfNull(caPin);
        var pin = caPin.StartsWith(Security.CaPin.Prefix, StringComparison.Ordinal) ? caPin[Security.CaPin.Prefix.Length..] : caPin;
        return new JoinToken(pin, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)), Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)));
    }

    /// <summary>Parses <c>K10PIN::ID.SECRET</c>; false for anything else, with <paramref name="error"/> saying what is wrong.</summary>
    public static bool TryParse(string? text, out JoinToken token, out string error)
    {
        token = new JoinToken("", "", "");
        error = "";
        text = text?.Trim();
        if (string.IsNullOrEmpty(text) || !text.StartsWith(Prefix, StringComparison.Ordinal))
        {
            error = $"malformed join token: it must start with '{Prefix}' (see 'corral node token create')";
            return false;
        }
        var parts = text[Prefix.Length..].Split("::");
        if (parts.Length != 2 || parts[0].Length != 64 || !parts[0].All(char.IsAsciiHexDigitLower))
        {
            error = "malformed join token: expected K10<64 hex CA hash>::<id>.<secret>";
            return false;
        }
        var credential = parts[1].Split('.');
        if (credential.Length != 2 || credential[0].Length != 12 || credential[1].Length != 64
            || !credential[0].All(char.IsAsciiHexDigitLower) || !credential[1].All(char.IsAsciiHexDigitLower))
        {
            error = "malformed join token: expected <12 hex id>.<64 hex secret> after '::'";
            return false;
        }
        token = new JoinToken(parts[0], credential[0], credential[1]);
        return true;
    }

    /// <summary>The hash stored for this token's secret.</summary>
    public string SecretHash => Hash(Secret);

    public static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    /// <summary>True when this token's secret matches <paramref name="storedHash"/> (constant time).</summary>
    public bool Matches(string storedHash) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(SecretHash), Encoding.ASCII.GetBytes(storedHash));
}
