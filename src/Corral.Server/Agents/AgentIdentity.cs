using Microsoft.AspNetCore.Http;

namespace Corral.Server.Agents;

/// <summary>
/// Decides which node an agent request speaks for. The one place agent identity is checked: today the node name the
/// agent states in its body or query is accepted when well-formed; with mTLS (the multi-node issue) it becomes the
/// name in the client certificate, and a request stating another node is refused.
/// </summary>
public sealed class AgentIdentity
{
    /// <summary>Longest node name accepted (a DNS name).</summary>
    public const int MaxNodeNameLength = 253;

    /// <summary>
    /// The node <paramref name="context"/> may act as, given the node it <paramref name="claimed"/>; otherwise null and
    /// the reason in <paramref name="error"/> (and <paramref name="status"/>: 400 for a malformed name, 403 when the
    /// caller may not act for that node).
    /// </summary>
    public string? Resolve(HttpContext context, string? claimed, out int status, out string error)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!IsValidNodeName(claimed))
        {
            status = StatusCodes.Status400BadRequest;
            error = $"node name '{claimed}' must be 1 to {MaxNodeNameLength} characters of letters, digits, '.', '_' and '-'";
            return null;
        }
        status = StatusCodes.Status200OK;
        error = "";
        return claimed;
    }

    /// <summary>True for a well-formed node name.</summary>
    public static bool IsValidNodeName(string? name) =>
        !string.IsNullOrEmpty(name) && name.Length <= MaxNodeNameLength
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');
}
