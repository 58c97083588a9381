using System.Globalization;
using System.Text;

namespace Corral.Core;

/// <summary>
/// The name rules: one per kind of named object, checked at every entry point that creates one (the API, and the CLI
/// before it sends anything), plus the one rule for all text: no control characters. A name that breaks its rule is
/// refused whole, never trimmed or cut. Names compare ordinally (case-sensitive).
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><b>Node</b> (and server) names: <c>^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$</c>. 64 is the longest X.509 common
/// name, and a node's name is its certificate's common name; the first character rules out <c>.</c>, <c>..</c> (which
/// no URL path can address) and names a command line would read as a flag.</item>
/// <item><b>API key</b> names: <c>^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$</c>; events name the key's actions
/// <c>key:NAME</c>, so no <c>:</c>, <c>/</c> or space.</item>
/// <item><b>Label</b> names and values (stack placement, node labels, agent labels):
/// <c>^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$</c>.</item>
/// <item><b>API key roles</b>: exactly <c>metrics</c>, <c>viewer</c>, <c>operator</c> or <c>admin</c>, lower case.</item>
/// </list>
/// A control character is a Unicode <c>Cc</c> character (U+0000–U+001F, U+007F–U+009F: NUL, tab, newline, escape …)
/// or a line or paragraph separator (U+2028, U+2029): each breaks a line, a table or a C string somewhere.
/// </remarks>
public static class Names
{
    /// <summary>Longest node or server name: the limit of an X.509 common name.</summary>
    public const int NodeMaxLength = 64;

    /// <summary>Longest API key name.</summary>
    public const int ApiKeyMaxLength = 63;

    /// <summary>Longest label name or value.</summary>
    public const int LabelMaxLength = 63;

    /// <summary>The node name rule, in words.</summary>
    public const string NodeRule = "1 to 64 characters: ASCII letters, digits, '.', '_' and '-', starting with a letter or digit";

    /// <summary>The API key name rule, in words.</summary>
    public const string ApiKeyRule = "1 to 63 characters: ASCII letters, digits, '.', '_' and '-', starting with a letter or digit";

    /// <summary>The label name and value rule, in words.</summary>
    public const string LabelRule = "1 to 63 characters: ASCII letters, digits, '.', '_', '/' and '-', starting with a letter or digit";

    /// <summary>The roles an API key may have, lowest first; a role is matched exactly (lower case).</summary>
    public static readonly IReadOnlyList<string> ApiKeyRoles = ["metrics", "viewer", "operator", "admin"];

    /// <summary>True for a well-formed node (or server) name.</summary>
    public static bool IsValidNode(string? name) => Matches(name, NodeMaxLength, slash: false);

    /// <summary>True for a well-formed API key name.</summary>
    public static bool IsValidApiKey(string? name) => Matches(name, ApiKeyMaxLength, slash: false);

    /// <summary>True for a well-formed label name or value.</summary>
    public static bool IsValidLabel(string? text) => Matches(text, LabelMaxLength, slash: true);

    /// <summary>
    /// True for the form of the ids the servers generate for API keys and join tokens: 12 lower-case hex digits.
    /// </summary>
    public static bool IsValidId(string? id) => id is { Length: 12 } && id.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');

    /// <summary>Null for a well-formed API key or join token id; otherwise why not.</summary>
    public static string? CheckId(string? id, string what) =>
        IsValidId(id) ? null : $"{what} {Quote(id)} is not an id: ids are 12 lower-case hex digits";

    /// <summary>True when <paramref name="role"/> is exactly one of <see cref="ApiKeyRoles"/>.</summary>
    public static bool IsApiKeyRole(string? role) => role is not null && ApiKeyRoles.Contains(role, StringComparer.Ordinal);

    /// <summary>Null for a well-formed node name; otherwise why not, e.g. <c>node name '..' must be 1 to 64 …</c>.</summary>
    /// <param name="what">What the name names, to start the message: <c>node name</c>, <c>server name</c>.</param>
    public static string? CheckNode(string? name, string what = "node name") =>
        IsValidNode(name) ? null : Explain(what, name, NodeRule);

    /// <summary>Null for a well-formed API key name; otherwise why not.</summary>
    public static string? CheckApiKey(string? name) =>
        IsValidApiKey(name) ? null : Explain("API key name", name, ApiKeyRule);

    /// <summary>Null for a well-formed label name or value; otherwise why not.</summary>
    /// <param name="what">What the text is, to start the message: <c>label name</c>, <c>label value</c>.</param>
    public static string? CheckLabel(string? text, string what) =>
        IsValidLabel(text) ? null : Explain(what, text, LabelRule);

    /// <summary>
    /// One error per label of <paramref name="labels"/> whose name or value breaks the label rule, in name order, each
    /// naming the field <c>PREFIX.NAME</c> (the name with its control characters escaped).
    /// </summary>
    public static List<Api.FieldError> CheckLabels(IEnumerable<KeyValuePair<string, string>> labels, string prefix)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var errors = new List<Api.FieldError>();
        foreach (var (key, value) in labels.OrderBy(l => l.Key, StringComparer.Ordinal))
        {
            if ((CheckLabel(key, "label name") ?? CheckLabel(value, "label value")) is { } message)
            {
                errors.Add(new Api.FieldError($"{prefix}.{Escape(key)}", message));
            }
        }
        return errors;
    }

    /// <summary>Null for an API key role; otherwise why not.</summary>
    public static string? CheckApiKeyRole(string? role) =>
        IsApiKeyRole(role) ? null : $"role {Quote(role)} is not one of {string.Join(", ", ApiKeyRoles)} (lower case)";

    /// <summary>True for a control character: Unicode Cc, or the line and paragraph separators U+2028 and U+2029.</summary>
    public static bool IsControl(char c) => char.IsControl(c) || c is '\u2028' or '\u2029';

    /// <summary>The index of the first control character in <paramref name="text"/>, or -1 (also for null).</summary>
    public static int IndexOfControl(string? text)
    {
        if (text is null)
        {
            return -1;
        }
        for (var i = 0; i < text.Length; i++)
        {
            if (IsControl(text[i]))
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>
    /// Null when <paramref name="text"/> has no control character; otherwise e.g. <c>contains a control character
    /// (U+000A) at position 3</c> (1-based), for messages about free text such as a command or an environment value.
    /// </summary>
    public static string? CheckNoControl(string? text)
    {
        var at = IndexOfControl(text);
        return at < 0 ? null : $"contains a control character (U+{(int)text![at]:X4}) at position {at + 1}";
    }

    /// <summary>
    /// <paramref name="text"/> in single quotes for a message, control characters written as <c>\uXXXX</c> (so that a
    /// refused name cannot break the line that reports it) and cut after 80 characters with its length.
    /// </summary>
    public static string Quote(string? text)
    {
        if (text is null)
        {
            return "(none)";
        }
        const int Shown = 80;
        var quoted = "'" + Escape(text.Length > Shown ? text[..Shown] : text) + "'";
        return text.Length > Shown ? quoted + $"… ({text.Length} characters)" : quoted;
    }

    /// <summary><paramref name="text"/> with each control character written as <c>\uXXXX</c>.</summary>
    public static string Escape(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (IndexOfControl(text) < 0)
        {
            return text;
        }
        var escaped = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            if (IsControl(c))
            {
                escaped.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
            }
            else
            {
                escaped.Append(c);
            }
        }
        return escaped.ToString();
    }

    private static string Explain(string what, string? text, string rule)
    {
        var control = CheckNoControl(text);
        return control is null
            ? $"{what} {Quote(text)} must be {rule}"
            : $"{what} {Quote(text)} {control}; it must be {rule}";
    }

    private static bool Matches(string? text, int maxLength, bool slash)
    {
        if (string.IsNullOrEmpty(text) || text.Length > maxLength || !char.IsAsciiLetterOrDigit(text[0]))
        {
            return false;
        }
        foreach (var c in text)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' || (slash && c == '/')))
            {
                return false;
            }
        }
        return true;
    }
}
